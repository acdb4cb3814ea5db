//! The `itertools` module: count, chain, islice, repeat, cycle, takewhile, dropwhile, starmap,
//! filterfalse, batched and tee are lazy; the combinatoric iterators collect their input
//! first (as CPython's do) and produce their results eagerly, and so (unlike CPython's) do
//! accumulate, groupby, zip_longest, pairwise and compress.

use std::cell::RefCell;
use std::rc::Rc;

use crate::builtins::{builtin, nargs, split_kw};
use crate::objects::{Iter, IterState, Module, NativeFn, TeeLink};
use crate::pystr::PyStr;
use crate::value::Value;
use crate::vm::{PyResult, Vm};

type Kw<'a> = &'a [Rc<PyStr>];

fn lazy(state: IterState) -> Value {
    Value::Iter(Rc::new(Iter {
        state: RefCell::new(state),
    }))
}

fn over(items: Vec<Value>) -> Value {
    lazy(IterState::Seq {
        seq: Value::list(items),
        index: 0,
    })
}

fn count(vm: &mut Vm, args: &[Value], kw: Kw) -> PyResult<Value> {
    let (pos, _) = split_kw(args, kw);
    nargs(vm, "count", pos, 0, 2)?;
    Ok(lazy(IterState::Count {
        next: pos.first().cloned().unwrap_or(Value::Int(0)),
        step: pos.get(1).cloned().unwrap_or(Value::Int(1)),
    }))
}

fn chain(_: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    Ok(lazy(IterState::Chain {
        rest: args.iter().cloned().collect(),
        current: Value::Null,
    }))
}

fn opt_index(vm: &mut Vm, v: Option<&Value>) -> PyResult<Option<usize>> {
    match v {
        None | Some(Value::None) => Ok(None),
        Some(v) => {
            let i = vm.index_of(v)?;
            if i < 0 {
                return Err(vm.value_error(
                    "Indices for islice() must be None or an integer: 0 <= x <= sys.maxsize.",
                ));
            }
            Ok(Some(i as usize))
        }
    }
}

fn islice(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "islice", args, 2, 4)?;
    let inner = vm.iter(&args[0])?;
    let (start, stop, step) = if args.len() == 2 {
        (0, opt_index(vm, args.get(1))?, 1)
    } else {
        (
            opt_index(vm, args.get(1))?.unwrap_or(0),
            opt_index(vm, args.get(2))?,
            opt_index(vm, args.get(3))?.unwrap_or(1).max(1),
        )
    };
    Ok(lazy(IterState::Islice {
        inner,
        pos: 0,
        next: start,
        stop,
        step,
    }))
}

fn repeat(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "repeat", args, 1, 2)?;
    let left = match args.get(1) {
        Some(n) => Some(vm.index_of(n)?.max(0) as usize),
        None => None,
    };
    Ok(lazy(IterState::Repeat {
        value: args[0].clone(),
        left,
    }))
}

fn permutations(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "permutations", args, 1, 2)?;
    let pool = vm.to_vec(&args[0])?;
    let n = pool.len();
    let r = match args.get(1) {
        Some(Value::None) | None => n,
        Some(v) => vm.index_of(v)?.max(0) as usize,
    };
    let mut out = Vec::new();
    if r > n {
        return Ok(over(out));
    }
    // CPython's algorithm, so the order matches.
    let mut indices: Vec<usize> = (0..n).collect();
    let mut cycles: Vec<usize> = (n - r + 1..=n).rev().collect();
    out.push(Value::tuple(
        indices[..r].iter().map(|&i| pool[i].clone()).collect(),
    ));
    if n == 0 {
        return Ok(over(out));
    }
    'outer: loop {
        for i in (0..r).rev() {
            cycles[i] -= 1;
            if cycles[i] == 0 {
                let moved = indices.remove(i);
                indices.push(moved);
                cycles[i] = n - i;
            } else {
                let j = n - cycles[i];
                indices.swap(i, j);
                out.push(Value::tuple(
                    indices[..r].iter().map(|&i| pool[i].clone()).collect(),
                ));
                continue 'outer;
            }
        }
        break;
    }
    Ok(over(out))
}

fn combinations(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "combinations", args, 2, 2)?;
    let pool = vm.to_vec(&args[0])?;
    let r = vm.index_of(&args[1])?.max(0) as usize;
    let n = pool.len();
    let mut out = Vec::new();
    if r > n {
        return Ok(over(out));
    }
    let mut indices: Vec<usize> = (0..r).collect();
    loop {
        out.push(Value::tuple(
            indices.iter().map(|&i| pool[i].clone()).collect(),
        ));
        let Some(i) = (0..r).rev().find(|&i| indices[i] != i + n - r) else {
            break;
        };
        indices[i] += 1;
        for j in i + 1..r {
            indices[j] = indices[j - 1] + 1;
        }
    }
    Ok(over(out))
}

fn product(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let repeat = match kw.iter().find(|(k, _)| *k == "repeat") {
        Some((_, v)) => vm.index_of(v)?.max(0) as usize,
        None => 1,
    };
    let mut pools = Vec::new();
    for p in pos {
        pools.push(vm.to_vec(p)?);
    }
    let pools: Vec<Vec<Value>> = (0..repeat).flat_map(|_| pools.iter().cloned()).collect();
    let mut result: Vec<Vec<Value>> = vec![vec![]];
    for pool in &pools {
        result = result
            .iter()
            .flat_map(|prefix| {
                pool.iter().map(move |y| {
                    let mut v = prefix.clone();
                    v.push(y.clone());
                    v
                })
            })
            .collect();
    }
    Ok(over(result.into_iter().map(Value::tuple).collect()))
}

fn accumulate(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    nargs(vm, "accumulate", pos, 1, 2)?;
    let func = pos.get(1).cloned().or_else(|| {
        kw.iter()
            .find(|(k, _)| *k == "func")
            .map(|(_, v)| (*v).clone())
    });
    let initial = kw
        .iter()
        .find(|(k, _)| *k == "initial")
        .map(|(_, v)| (*v).clone());
    let mut out = Vec::new();
    let mut acc = initial.clone();
    if let Some(i) = initial {
        out.push(i);
    }
    for x in vm.to_vec(&pos[0])? {
        let next = match (&acc, &func) {
            (None, _) => x,
            (Some(a), None | Some(Value::None)) => vm.binary_op(a, &x, 0)?,
            (Some(a), Some(f)) => vm.call(f, &[a.clone(), x], &[])?,
        };
        out.push(next.clone());
        acc = Some(next);
    }
    Ok(over(out))
}

fn cycle(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "cycle", args, 1, 1)?;
    let inner = vm.iter(&args[0])?;
    Ok(lazy(IterState::Cycle {
        inner,
        saved: Vec::new(),
        index: 0,
    }))
}

fn takewhile(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "takewhile", args, 2, 2)?;
    let inner = vm.iter(&args[1])?;
    Ok(lazy(IterState::TakeWhile {
        func: args[0].clone(),
        inner,
    }))
}

fn dropwhile(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "dropwhile", args, 2, 2)?;
    let inner = vm.iter(&args[1])?;
    Ok(lazy(IterState::DropWhile {
        func: args[0].clone(),
        inner,
    }))
}

fn starmap(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "starmap", args, 2, 2)?;
    let inner = vm.iter(&args[1])?;
    Ok(lazy(IterState::StarMap {
        func: args[0].clone(),
        inner,
    }))
}

fn groupby(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    nargs(vm, "groupby", pos, 1, 2)?;
    let key = pos
        .get(1)
        .cloned()
        .or_else(|| {
            kw.iter()
                .find(|(k, _)| *k == "key")
                .map(|(_, v)| (*v).clone())
        })
        .unwrap_or(Value::None);
    let mut groups: Vec<(Value, Vec<Value>)> = Vec::new();
    for item in vm.to_vec(&pos[0])? {
        let k = if matches!(key, Value::None) {
            item.clone()
        } else {
            vm.call(&key, std::slice::from_ref(&item), &[])?
        };
        let same = match groups.last() {
            Some((last, _)) => vm.eq(last, &k)?,
            None => false,
        };
        if same {
            if let Some((_, g)) = groups.last_mut() {
                g.push(item);
            }
        } else {
            groups.push((k, vec![item]));
        }
    }
    let out = groups
        .into_iter()
        .map(|(k, g)| Value::tuple(vec![k, over(g)]))
        .collect();
    Ok(over(out))
}

fn zip_longest(vm: &mut Vm, args: &[Value], kwnames: Kw) -> PyResult<Value> {
    let (pos, kw) = split_kw(args, kwnames);
    let fill = kw
        .iter()
        .find(|(k, _)| *k == "fillvalue")
        .map(|(_, v)| (*v).clone())
        .unwrap_or(Value::None);
    let mut seqs = Vec::new();
    for p in pos {
        seqs.push(vm.to_vec(p)?);
    }
    let n = seqs.iter().map(Vec::len).max().unwrap_or(0);
    let out = (0..n)
        .map(|i| {
            Value::tuple(
                seqs.iter()
                    .map(|s| s.get(i).cloned().unwrap_or_else(|| fill.clone()))
                    .collect(),
            )
        })
        .collect();
    Ok(over(out))
}

fn pairwise(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "pairwise", args, 1, 1)?;
    let items = vm.to_vec(&args[0])?;
    Ok(over(
        items.windows(2).map(|w| Value::tuple(w.to_vec())).collect(),
    ))
}

fn compress(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "compress", args, 2, 2)?;
    let (data, sel) = (vm.to_vec(&args[0])?, vm.to_vec(&args[1])?);
    let mut out = Vec::new();
    for (d, s) in data.into_iter().zip(sel) {
        if vm.truthy(&s)? {
            out.push(d);
        }
    }
    Ok(over(out))
}

fn combinations_with_replacement(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "combinations_with_replacement", args, 2, 2)?;
    let pool = vm.to_vec(&args[0])?;
    let r = vm.index_of(&args[1])?.max(0) as usize;
    let n = pool.len();
    let mut out = Vec::new();
    if n == 0 && r > 0 {
        return Ok(over(out));
    }
    let mut indices = vec![0usize; r];
    loop {
        out.push(Value::tuple(
            indices.iter().map(|&i| pool[i].clone()).collect(),
        ));
        let Some(i) = (0..r).rev().find(|&i| indices[i] != n - 1) else {
            break;
        };
        let v = indices[i] + 1;
        for slot in &mut indices[i..] {
            *slot = v;
        }
    }
    Ok(over(out))
}

fn filterfalse(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "filterfalse", args, 2, 2)?;
    let inner = vm.iter(&args[1])?;
    Ok(lazy(IterState::Filter {
        func: args[0].clone(),
        inner,
        keep: false,
    }))
}

/// `batched(iterable, n)`: tuples of `n` items, the last one shorter.
fn batched(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "batched", args, 2, 2)?;
    let n = vm.index_of(&args[1])?;
    if n < 1 {
        return Err(vm.value_error("n must be at least one"));
    }
    let inner = vm.iter(&args[0])?;
    Ok(lazy(IterState::Batched {
        inner,
        n: n as usize,
    }))
}

/// `tee(iterable, n=2)`: `n` independent iterators over the same items.
fn tee(vm: &mut Vm, args: &[Value], _: Kw) -> PyResult<Value> {
    nargs(vm, "tee", args, 1, 2)?;
    let n = match args.get(1) {
        Some(n) => vm.index_of(n)?,
        None => 2,
    };
    if n < 0 {
        return Err(vm.value_error("n must be >= 0"));
    }
    let source = vm.iter(&args[0])?;
    let start = Rc::new(TeeLink::default());
    Ok(Value::tuple(
        (0..n)
            .map(|_| {
                lazy(IterState::Tee {
                    source: source.clone(),
                    link: start.clone(),
                })
            })
            .collect(),
    ))
}

/// The `itertools` module.
pub fn module(vm: &mut Vm) -> PyResult<Value> {
    let module = Module::native(
        "itertools",
        [
            ("count", count as NativeFn),
            ("chain", chain),
            ("islice", islice),
            ("repeat", repeat),
            ("permutations", permutations),
            ("combinations", combinations),
            ("product", product),
            ("accumulate", accumulate),
            ("cycle", cycle),
            ("takewhile", takewhile),
            ("dropwhile", dropwhile),
            ("starmap", starmap),
            ("groupby", groupby),
            ("zip_longest", zip_longest),
            ("pairwise", pairwise),
            ("compress", compress),
            ("filterfalse", filterfalse),
            ("batched", batched),
            ("tee", tee),
            (
                "combinations_with_replacement",
                combinations_with_replacement,
            ),
        ]
        .map(|(name, f)| (name, builtin(name, f))),
    );
    crate::natives::with_python_half(vm, module, include_str!("py/itertools.py"))
}
