//! The `random` module: CPython's Mersenne Twister, seeding (`init_by_array` from the absolute
//! value of an int seed) and derived functions, so seeded programs draw the same numbers as
//! under CPython.

use std::cell::RefCell;
use std::rc::Rc;

use num_bigint::BigInt;
use num_traits::Signed;

use crate::builtins::{builtin, nargs, split_kw};
use crate::int::as_int;
use crate::objects::{Module, NativeFn};
use crate::pystr::PyStr;
use crate::value::Value;
use crate::vm::{PyResult, Vm};

const N: usize = 624;
const M: usize = 397;

/// MT19937 state.
struct Mt {
    state: [u32; N],
    index: usize,
    gauss_next: Option<f64>,
}

impl Mt {
    fn init_genrand(&mut self, s: u32) {
        self.state[0] = s;
        for i in 1..N {
            let prev = self.state[i - 1];
            self.state[i] = 1812433253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        self.index = N;
    }

    fn init_by_array(&mut self, key: &[u32]) {
        self.init_genrand(19650218);
        let (mut i, mut j) = (1usize, 0usize);
        let mut k = N.max(key.len());
        while k > 0 {
            let prev = self.state[i - 1];
            self.state[i] = (self.state[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1664525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                self.state[0] = self.state[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
            k -= 1;
        }
        k = N - 1;
        while k > 0 {
            let prev = self.state[i - 1];
            self.state[i] = (self.state[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1566083941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                self.state[0] = self.state[N - 1];
                i = 1;
            }
            k -= 1;
        }
        self.state[0] = 0x8000_0000;
        self.index = N;
        self.gauss_next = None;
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            for kk in 0..N {
                let y = (self.state[kk] & 0x8000_0000) | (self.state[(kk + 1) % N] & 0x7fff_ffff);
                let mag = if y & 1 == 1 { 0x9908_b0df } else { 0 };
                self.state[kk] = self.state[(kk + M) % N] ^ (y >> 1) ^ mag;
            }
            self.index = 0;
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    fn random(&mut self) -> f64 {
        let a = self.next_u32() >> 5;
        let b = self.next_u32() >> 6;
        (f64::from(a) * 67108864.0 + f64::from(b)) * (1.0 / 9007199254740992.0)
    }

    fn getrandbits(&mut self, k: u64) -> BigInt {
        if k <= 32 {
            return BigInt::from(if k == 0 {
                0
            } else {
                self.next_u32() >> (32 - k)
            });
        }
        let mut words = Vec::new();
        let mut left = k;
        while left > 0 {
            let mut r = self.next_u32();
            if left < 32 {
                r >>= 32 - left;
            }
            words.push(r);
            left = left.saturating_sub(32);
        }
        BigInt::from_slice(num_bigint::Sign::Plus, &words)
    }

    fn below(&mut self, n: &BigInt) -> BigInt {
        let k = n.bits();
        let mut r = self.getrandbits(k);
        while &r >= n {
            r = self.getrandbits(k);
        }
        r
    }
}

thread_local! {
    static MT: RefCell<Mt> = RefCell::new({
        let mut mt = Mt { state: [0; N], index: N, gauss_next: None };
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        mt.init_by_array(&[seed as u32, (seed >> 32) as u32]);
        mt
    });
}

fn with_mt<T>(f: impl FnOnce(&mut Mt) -> T) -> T {
    MT.with(|m| f(&mut m.borrow_mut()))
}

fn below(vm: &mut Vm, n: &BigInt) -> PyResult<BigInt> {
    if !n.is_positive() {
        return Err(vm.value_error("empty range in randrange()"));
    }
    Ok(with_mt(|m| m.below(n)))
}

fn int_arg(vm: &mut Vm, v: &Value) -> PyResult<BigInt> {
    match as_int(v) {
        Some(i) => Ok(i.big()),
        None => Err(vm.type_error(format!(
            "'{}' object cannot be interpreted as an integer",
            vm.type_name(v)
        ))),
    }
}

fn seed(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "seed", args, 0, 2)?;
    let key: Vec<u32> = match args.first() {
        None | Some(Value::None) => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            vec![t as u32, (t >> 32) as u32]
        }
        Some(v) if as_int(v).is_some() => {
            let a = int_arg(vm, v)?.abs();
            let (_, digits) = a.to_u32_digits();
            if digits.is_empty() {
                vec![0]
            } else {
                digits
            }
        }
        Some(Value::Str(s)) => {
            // CPython (version 2 seeding): the str's UTF-8 bytes plus its SHA-512, as an int.
            return Err(vm.type_error(format!(
                "seeding from a str ({}) is not supported yet",
                crate::ops::str_repr(s.as_str())
            )));
        }
        Some(other) => {
            let h = vm.hash(other)?;
            let a = BigInt::from(h).abs();
            let (_, d) = a.to_u32_digits();
            if d.is_empty() {
                vec![0]
            } else {
                d
            }
        }
    };
    with_mt(|m| m.init_by_array(&key));
    Ok(Value::None)
}

fn random(_: &mut Vm, _: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    Ok(Value::Float(with_mt(Mt::random)))
}

fn getrandbits(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "getrandbits", args, 1, 1)?;
    let k = vm.index_of(&args[0])?;
    if k < 0 {
        return Err(vm.value_error("number of bits must be non-negative"));
    }
    Ok(Value::from_bigint(with_mt(|m| m.getrandbits(k as u64))))
}

fn randrange_impl(
    vm: &mut Vm,
    start: &Value,
    stop: Option<&Value>,
    step: Option<&Value>,
) -> PyResult<Value> {
    let start = int_arg(vm, start)?;
    let Some(stop) = stop.filter(|s| !matches!(s, Value::None)) else {
        if !start.is_positive() {
            return Err(vm.value_error("empty range for randrange()"));
        }
        return Ok(Value::from_bigint(below(vm, &start)?));
    };
    let stop = int_arg(vm, stop)?;
    let step = match step {
        Some(s) => int_arg(vm, s)?,
        None => BigInt::from(1),
    };
    let width = &stop - &start;
    if step == BigInt::from(1) {
        if !width.is_positive() {
            return Err(vm.value_error(format!("empty range in randrange({start}, {stop})")));
        }
        return Ok(Value::from_bigint(start + below(vm, &width)?));
    }
    if step.sign() == num_bigint::Sign::NoSign {
        return Err(vm.value_error("zero step for randrange()"));
    }
    let n: BigInt = if step.is_positive() {
        (&width + &step - 1) / &step
    } else {
        (&width + &step + 1) / &step
    };
    if !n.is_positive() {
        return Err(vm.value_error(format!("empty range in randrange({start}, {stop}, {step})")));
    }
    Ok(Value::from_bigint(start + step * below(vm, &n)?))
}

fn randrange(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "randrange", args, 1, 3)?;
    randrange_impl(vm, &args[0], args.get(1), args.get(2))
}

fn randint(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "randint", args, 2, 2)?;
    let b = vm.binary_op(&args[1], &Value::Int(1), 0)?;
    randrange_impl(vm, &args[0], Some(&b), None)
}

fn choice(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "choice", args, 1, 1)?;
    let n = vm.len(&args[0])?;
    if n == 0 {
        return Err(vm.err("IndexError", "Cannot choose from an empty sequence"));
    }
    let i = below(vm, &BigInt::from(n))?;
    vm.get_item(&args[0], &Value::from_bigint(i))
}

fn shuffle(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "shuffle", args, 1, 1)?;
    let n = vm.len(&args[0])?;
    for i in (1..n).rev() {
        let j = below(vm, &BigInt::from(i + 1))?;
        let j = Value::from_bigint(j);
        let (vi, vj) = (
            vm.get_item(&args[0], &Value::Int(i as i64))?,
            vm.get_item(&args[0], &j)?,
        );
        vm.set_item(&args[0], &Value::Int(i as i64), vj)?;
        vm.set_item(&args[0], &j, vi)?;
    }
    Ok(Value::None)
}

fn uniform(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "uniform", args, 2, 2)?;
    let width = vm.binary_op(&args[1], &args[0], 10)?;
    let r = Value::Float(with_mt(Mt::random));
    let scaled = vm.binary_op(&width, &r, 5)?;
    vm.binary_op(&args[0], &scaled, 0)
}

fn gauss(vm: &mut Vm, args: &[Value], kwnames: &[Rc<PyStr>]) -> PyResult<Value> {
    let (pos, _) = split_kw(args, kwnames);
    let mu = match pos.first() {
        Some(v) => vm.binary_op(v, &Value::Float(0.0), 0)?,
        None => Value::Float(0.0),
    };
    let sigma = match pos.get(1) {
        Some(v) => v.clone(),
        None => Value::Float(1.0),
    };
    let z = with_mt(|m| match m.gauss_next.take() {
        Some(z) => z,
        None => {
            let x2pi = m.random() * std::f64::consts::TAU;
            let g2rad = (-2.0 * (1.0 - m.random()).ln()).sqrt();
            m.gauss_next = Some(x2pi.sin() * g2rad);
            x2pi.cos() * g2rad
        }
    });
    let scaled = vm.binary_op(&Value::Float(z), &sigma, 5)?;
    vm.binary_op(&mu, &scaled, 0)
}

fn sample(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    nargs(vm, "sample", args, 2, 2)?;
    let population = vm.to_vec(&args[0])?;
    let k = vm.index_of(&args[1])?;
    let n = population.len();
    if k < 0 || k as usize > n {
        return Err(vm.value_error("Sample larger than population or is negative"));
    }
    let k = k as usize;
    let mut setsize = 21usize;
    if k > 5 {
        let exp = ((k * 3) as f64).ln() / 4f64.ln();
        setsize += 4usize.pow(exp.ceil() as u32);
    }
    let mut result = Vec::with_capacity(k);
    if n <= setsize {
        let mut pool = population.clone();
        for i in 0..k {
            let j = below(vm, &BigInt::from(n - i))?;
            let j: usize = j.try_into().unwrap_or(0);
            result.push(pool[j].clone());
            pool[j] = pool[n - i - 1].clone();
        }
    } else {
        let mut selected = std::collections::HashSet::new();
        for _ in 0..k {
            let mut j: usize = below(vm, &BigInt::from(n))?.try_into().unwrap_or(0);
            while selected.contains(&j) {
                j = below(vm, &BigInt::from(n))?.try_into().unwrap_or(0);
            }
            selected.insert(j);
            result.push(population[j].clone());
        }
    }
    Ok(Value::list(result))
}

/// The `random` module.
pub fn module() -> Value {
    Module::native(
        "random",
        [
            ("seed", seed as NativeFn),
            ("random", random),
            ("getrandbits", getrandbits),
            ("randrange", randrange),
            ("randint", randint),
            ("choice", choice),
            ("shuffle", shuffle),
            ("uniform", uniform),
            ("gauss", gauss),
            ("sample", sample),
        ]
        .map(|(name, f)| (name, builtin(name, f))),
    )
}
