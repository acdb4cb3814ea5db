//! Module specs and loaders as importlib exposes them: `ModuleSpec` (name, loader, origin,
//! loader_state, submodule_search_locations, cached, parent, has_location), the loader objects
//! (`SourceFileLoader`, `SourcelessFileLoader`, `NamespaceLoader`, `BuiltinImporter` with
//! `name` and `path`), a namespace package's `_NamespacePath` (a list subclass), the
//! attributes importlib's `_init_module_attrs` gives a module, and CPython's module repr.

use std::path::Path;
use std::rc::Rc;

use pyc_loader::{cache_from_source, OptLevel, Target};

use crate::builtins::make_class;
use crate::dict::DictObj;
use crate::objects::{BuiltinFunction, Instance, Module, NativeFn};
use crate::path_finder::{Found, Location};
use crate::pystr::{intern, PyStr};
use crate::types::Type;
use crate::value::Value;
use crate::vm::{PyResult, Vm};

/// The classes of specs and loaders, made once per VM.
#[derive(Debug)]
pub struct SpecClasses {
    spec: Rc<Type>,
    source: Rc<Type>,
    sourceless: Rc<Type>,
    namespace: Rc<Type>,
    builtin: Rc<Type>,
    namespace_path: Rc<Type>,
}

/// What kind of loader loads a module.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum LoaderKind {
    /// `m.py` through its cache.
    Source,
    /// `m.pyc` without a source.
    Sourceless,
    /// A namespace package.
    Namespace,
    /// A module implemented in Rust.
    BuiltIn,
}

fn classes(vm: &mut Vm) -> PyResult<Rc<SpecClasses>> {
    if let Some(c) = &vm.imports.classes {
        return Ok(c.clone());
    }
    let spec = class(
        vm,
        "_frozen_importlib",
        "ModuleSpec",
        None,
        &[("__repr__", spec_repr)],
    )?;
    let list = vm.t.list.clone();
    let external = "_frozen_importlib_external";
    let made = Rc::new(SpecClasses {
        spec,
        source: class(vm, external, "SourceFileLoader", None, &[])?,
        sourceless: class(vm, external, "SourcelessFileLoader", None, &[])?,
        namespace: class(vm, external, "NamespaceLoader", None, &[])?,
        builtin: class(vm, "_frozen_importlib", "BuiltinImporter", None, &[])?,
        namespace_path: class(
            vm,
            external,
            "_NamespacePath",
            Some(list),
            &[("__repr__", namespace_path_repr)],
        )?,
    });
    vm.imports.classes = Some(made.clone());
    Ok(made)
}

fn class(
    vm: &mut Vm,
    module: &str,
    name: &str,
    base: Option<Rc<Type>>,
    methods: &[(&'static str, NativeFn)],
) -> PyResult<Rc<Type>> {
    let ns = crate::ops::new_dict();
    ns.set_str(&intern("__module__"), Value::str(module));
    for (n, f) in methods {
        let method = Value::Builtin(Rc::new(BuiltinFunction {
            name: n,
            func: *f,
            bound: None,
            needs_frame: false,
            instance_method: true,
        }));
        ns.set_str(&intern(n), method);
    }
    make_class(vm, intern(name), base.into_iter().collect(), &ns, &[], None)
}

fn instance(class: &Rc<Type>, attrs: &[(&str, Value)]) -> Value {
    Instance::plain(class, attrs, Value::Null)
}

fn path_value(p: &Path) -> Value {
    Value::string(p.display().to_string())
}

fn opt(p: Option<&Path>) -> Value {
    p.map_or(Value::None, path_value)
}

/// The `__cached__` of a module loaded from `location` (importlib's `_get_cached`).
fn cached(location: &Location, optimize: OptLevel) -> Option<std::path::PathBuf> {
    match location {
        Location::Source(p) => Some(cache_from_source(p, Target::V3_12, optimize)),
        Location::Sourceless(p) => Some(p.clone()),
        Location::Namespace(_) => None,
    }
}

/// The spec of module `name` found on the path (or built in, when `found` is None), and its
/// loader.
pub fn spec_for(vm: &mut Vm, name: &str, found: Option<&Found>) -> PyResult<(Value, Value)> {
    let c = classes(vm)?;
    let (kind, origin, locations) = match found {
        None => (LoaderKind::BuiltIn, Value::str("built-in"), Value::None),
        Some(f) => {
            let kind = match &f.location {
                Location::Source(_) => LoaderKind::Source,
                Location::Sourceless(_) => LoaderKind::Sourceless,
                Location::Namespace(_) => LoaderKind::Namespace,
            };
            let locations = match (&f.location, &f.package_dir) {
                (Location::Namespace(portions), _) => Instance::plain(
                    &c.namespace_path,
                    &[],
                    Value::list(portions.iter().map(|p| path_value(p)).collect()),
                ),
                (_, Some(dir)) => Value::list(vec![path_value(dir)]),
                _ => Value::None,
            };
            (kind, opt(f.origin()), locations)
        }
    };
    let loader = match kind {
        LoaderKind::BuiltIn => Value::Type(c.builtin.clone()),
        LoaderKind::Namespace => instance(&c.namespace, &[("_path", locations.clone())]),
        _ => {
            let class = if kind == LoaderKind::Source {
                &c.source
            } else {
                &c.sourceless
            };
            instance(
                class,
                &[("name", Value::str(name)), ("path", origin.clone())],
            )
        }
    };
    let is_package = !matches!(locations, Value::None);
    let parent = if is_package {
        name
    } else {
        name.rsplit_once('.').map_or("", |(p, _)| p)
    };
    let has_location = matches!(kind, LoaderKind::Source | LoaderKind::Sourceless);
    let optimize = vm.imports.policy.optimize;
    let cached = found.and_then(|f| cached(&f.location, optimize));
    let spec = instance(
        &c.spec,
        &[
            ("name", Value::str(name)),
            ("loader", loader.clone()),
            ("origin", origin),
            ("loader_state", Value::None),
            ("submodule_search_locations", locations),
            ("cached", opt(cached.as_deref())),
            ("parent", Value::str(parent)),
            ("has_location", Value::Bool(has_location)),
            ("_initializing", Value::Bool(false)),
        ],
    );
    Ok((spec, loader))
}

/// A new module namespace for `spec` with importlib's attributes, in CPython's order.
pub fn module_namespace(name: &str, spec: &Value) -> Rc<DictObj> {
    let get = |k: &str| spec_attr(spec, k).unwrap_or(Value::None);
    let d = crate::ops::new_dict();
    let set = |k: &str, v: Value| d.set_str(&intern(k), v);
    set("__name__", Value::str(name));
    set("__doc__", Value::None);
    set("__package__", get("parent"));
    set("__loader__", get("loader"));
    set("__spec__", spec.clone());
    let locations = get("submodule_search_locations");
    if matches!(get("has_location"), Value::Bool(true)) {
        if !matches!(locations, Value::None) {
            set("__path__", locations);
        }
        set("__file__", get("origin"));
        set("__cached__", get("cached"));
    } else if !matches!(locations, Value::None) {
        set("__file__", Value::None);
        set("__path__", locations);
    }
    d
}

/// An attribute of a spec (None when `spec` is no spec or lacks it).
pub fn spec_attr(spec: &Value, name: &str) -> Option<Value> {
    match spec {
        Value::Instance(i) => i.dict.get_str(&intern(name)),
        _ => None,
    }
}

/// Marks a module's spec as being initialised (or done), as importlib's `_initializing`.
pub fn set_initializing(spec: &Value, on: bool) {
    if let Value::Instance(i) = spec {
        i.dict.set_str(&intern("_initializing"), Value::Bool(on));
    }
}

/// Whether the module whose namespace is `dict` is still running its body.
pub fn is_initializing(dict: &DictObj) -> bool {
    dict.get_str(&intern("__spec__"))
        .and_then(|s| spec_attr(&s, "_initializing"))
        .is_some_and(|v| matches!(v, Value::Bool(true)))
}

/// Gives a built-in module a spec and loader, as `BuiltinImporter` does.
pub fn init_builtin(vm: &mut Vm, module: &Value) -> PyResult<()> {
    if let Value::Module(m) = module {
        let (spec, loader) = spec_for(vm, m.name.as_str(), None)?;
        m.dict.set_str(&intern("__loader__"), loader);
        m.dict.set_str(&intern("__spec__"), spec);
    }
    Ok(())
}

/// CPython's module repr (`_module_repr_from_spec`, or from `__file__` without a spec).
pub fn module_repr(vm: &mut Vm, m: &Module) -> PyResult<String> {
    let name = match m.dict.get_str(&intern("__name__")) {
        Some(Value::Str(s)) => s.as_str().to_owned(),
        _ => "?".to_owned(),
    };
    let spec = m.dict.get_str(&intern("__spec__")).unwrap_or(Value::None);
    match spec_attr(&spec, "origin") {
        Some(Value::Str(origin)) => Ok(
            if matches!(spec_attr(&spec, "has_location"), Some(Value::Bool(true))) {
                format!("<module '{name}' from '{}'>", origin.as_str())
            } else {
                format!("<module '{name}' ({})>", origin.as_str())
            },
        ),
        Some(_) => match spec_attr(&spec, "submodule_search_locations") {
            Some(locations @ Value::Instance(_)) => {
                let items = vm.to_vec(&locations)?;
                let shown = vm.repr(&Value::list(items))?;
                Ok(format!("<module '{name}' (namespace) from {shown}>"))
            }
            _ => Ok(format!("<module '{name}'>")),
        },
        None => Ok(match m.dict.get_str(&intern("__file__")) {
            Some(Value::Str(f)) => format!("<module '{name}' from '{}'>", f.as_str()),
            _ => format!("<module '{name}'>"),
        }),
    }
}

fn spec_repr(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    crate::builtins::nargs(vm, "__repr__", args, 1, 1)?;
    let mut parts = Vec::new();
    for (k, always) in [
        ("name", true),
        ("loader", true),
        ("origin", false),
        ("submodule_search_locations", false),
    ] {
        let v = spec_attr(&args[0], k).unwrap_or(Value::None);
        if always || !matches!(v, Value::None) {
            parts.push(format!("{k}={}", vm.repr(&v)?));
        }
    }
    Ok(Value::string(format!("ModuleSpec({})", parts.join(", "))))
}

/// `_NamespacePath.__repr__`.
fn namespace_path_repr(vm: &mut Vm, args: &[Value], _: &[Rc<PyStr>]) -> PyResult<Value> {
    crate::builtins::nargs(vm, "__repr__", args, 1, 1)?;
    let items = vm.to_vec(&args[0])?;
    let shown = vm.repr(&Value::list(items))?;
    Ok(Value::string(format!("_NamespacePath({shown})")))
}
