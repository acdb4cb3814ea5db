//! `__slots__`: the layout a class body's `__slots__` declares, and the member descriptors
//! that read and write the slot values of instances.

use std::rc::Rc;

use crate::dict::DictObj;
use crate::objects::{Instance, Wrapper};
use crate::pystr::{intern, PyStr};
use crate::types::Type;
use crate::value::Value;
use crate::vm::{PyResult, Vm};

/// The slots a new class declares.
#[derive(Debug, Default)]
pub struct SlotLayout {
    /// Slots its bases already give instances.
    pub base: usize,
    /// Its own slot names (mangled), in order.
    pub names: Vec<Rc<PyStr>>,
    /// Whether its instances have no `__dict__`.
    pub dictless: bool,
}

/// `__name` inside class `class` is `_class__name`, as the compiler mangles private names.
fn mangle(class: &str, name: &Rc<PyStr>) -> Rc<PyStr> {
    match pyc_compiler::symtable::mangle(Some(class), name.as_str()) {
        std::borrow::Cow::Borrowed(_) => name.clone(),
        std::borrow::Cow::Owned(mangled) => intern(&mangled),
    }
}

impl SlotLayout {
    /// Reads `__slots__` from a class namespace and checks it against the bases.
    pub fn from_namespace(
        vm: &mut Vm,
        class: &str,
        bases: &[Rc<Type>],
        ns: &Rc<DictObj>,
    ) -> PyResult<SlotLayout> {
        // The instance layout comes from the base with the most slots; another base with
        // slots must be one of its ancestors.
        let mut layout = SlotLayout::default();
        let mut widest: Option<&Rc<Type>> = None;
        for b in bases {
            if b.nslots > layout.base {
                layout.base = b.nslots;
                widest = Some(b);
            }
        }
        if let Some(w) = widest {
            if bases
                .iter()
                .any(|b| b.nslots > 0 && !Rc::ptr_eq(b, w) && !w.is_subtype(b))
            {
                return Err(vm.type_error("multiple bases have instance lay-out conflict"));
            }
        }
        let bases_dictless = bases
            .iter()
            .all(|b| (b.builtin && !b.is_exception) || b.dictless);
        let Some(spec) = ns.get_str(&intern("__slots__")) else {
            return Ok(layout);
        };
        let items = match &spec {
            Value::Str(_) => vec![spec.clone()],
            other => vm.to_vec(other)?,
        };
        let mut has_dict = false;
        for item in &items {
            let Value::Str(s) = item else {
                return Err(vm.type_error(format!(
                    "__slots__ items must be strings, not '{}'",
                    vm.type_name(item)
                )));
            };
            match s.as_str() {
                "__dict__" if has_dict || !bases_dictless => {
                    return Err(vm.type_error("__dict__ slot disallowed: we already got one"))
                }
                "__dict__" => has_dict = true,
                "__weakref__" => {}
                n if !is_identifier(n) => {
                    return Err(vm.type_error("__slots__ must be identifiers"));
                }
                _ => {
                    let m = mangle(class, s);
                    if ns.get_str(&m).is_some() {
                        return Err(vm.value_error(format!(
                            "'{}' in __slots__ conflicts with class variable",
                            m.as_str()
                        )));
                    }
                    layout.names.push(m);
                }
            }
        }
        layout.dictless = !has_dict && bases_dictless;
        Ok(layout)
    }

    /// Puts a member descriptor for each slot into the new class.
    pub fn install(&self, t: &Rc<Type>) {
        for (i, name) in self.names.iter().enumerate() {
            t.dict.set_str(
                name,
                Value::Wrapper(Rc::new(Wrapper::Member {
                    name: name.clone(),
                    index: self.base + i,
                    owner: Rc::downgrade(t),
                })),
            );
        }
    }
}

/// `str.isidentifier()`.
pub fn is_identifier(n: &str) -> bool {
    let mut chars = n.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// The instance a member descriptor applies to (a TypeError for other objects).
fn member_target<'a>(
    vm: &Vm,
    obj: &'a Value,
    name: &Rc<PyStr>,
    owner: &std::rc::Weak<Type>,
) -> PyResult<&'a Rc<Instance>> {
    let owner = owner.upgrade();
    match (obj, &owner) {
        (Value::Instance(i), Some(o)) if i.class.is_subtype(o) => Ok(i),
        _ => Err(vm.type_error(format!(
            "descriptor '{}' for '{}' objects doesn't apply to a '{}' object",
            name.as_str(),
            owner.map_or(String::new(), |o| o.name.as_str().to_owned()),
            vm.type_name(obj)
        ))),
    }
}

/// `member.__get__(obj)`.
pub fn member_get(
    vm: &Vm,
    obj: &Value,
    name: &Rc<PyStr>,
    index: usize,
    owner: &std::rc::Weak<Type>,
) -> PyResult<Value> {
    let inst = member_target(vm, obj, name, owner)?;
    match inst.slots.borrow().get(index) {
        Some(Value::Null) | None => Err(vm.attr_error(obj, name)),
        Some(v) => Ok(v.clone()),
    }
}

/// `member.__set__(obj, value)`; `None` deletes (`member.__delete__(obj)`).
pub fn member_set(
    vm: &Vm,
    obj: &Value,
    name: &Rc<PyStr>,
    index: usize,
    owner: &std::rc::Weak<Type>,
    value: Option<Value>,
) -> PyResult<()> {
    let inst = member_target(vm, obj, name, owner)?;
    let mut slots = inst.slots.borrow_mut();
    let Some(slot) = slots.get_mut(index) else {
        return Err(vm.attr_error(obj, name));
    };
    match value {
        Some(v) => *slot = v,
        None if matches!(slot, Value::Null) => {
            // CPython 3.12 raises AttributeError(name) here, with just the name.
            return Err(vm.err("AttributeError", name.as_str()));
        }
        None => *slot = Value::Null,
    }
    Ok(())
}

/// Installs `__get__`, `__set__` and `__delete__` on `member_descriptor`.
pub fn install(vm: &mut Vm) {
    let t = vm.t.member_descriptor.clone();
    for (name, f) in [
        ("__get__", member_get_method as crate::objects::NativeFn),
        ("__set__", member_set_method),
        ("__delete__", member_delete_method),
    ] {
        t.dict
            .set_str(&intern(name), crate::builtins::builtin(name, f));
    }
}

/// The member descriptor a method was called on.
fn this_member(vm: &Vm, args: &[Value]) -> PyResult<(Rc<PyStr>, usize, std::rc::Weak<Type>)> {
    match args.first() {
        Some(Value::Wrapper(w)) => match &**w {
            Wrapper::Member { name, index, owner } => Ok((name.clone(), *index, owner.clone())),
            _ => Err(vm.type_error("expected a member descriptor")),
        },
        _ => Err(vm.type_error("expected a member descriptor")),
    }
}

fn member_get_method(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    let (name, index, owner) = this_member(vm, args)?;
    match args.get(1) {
        None | Some(Value::None) => Ok(args[0].clone()),
        Some(obj) => member_get(vm, obj, &name, index, &owner),
    }
}

fn member_set_method(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    let (name, index, owner) = this_member(vm, args)?;
    let [_, obj, value] = args else {
        return Err(vm.type_error("expected 2 arguments"));
    };
    member_set(vm, obj, &name, index, &owner, Some(value.clone()))?;
    Ok(Value::None)
}

fn member_delete_method(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    let (name, index, owner) = this_member(vm, args)?;
    let Some(obj) = args.get(1) else {
        return Err(vm.type_error("expected 1 argument"));
    };
    member_set(vm, obj, &name, index, &owner, None)?;
    Ok(Value::None)
}
