//! `__del__`: an instance whose class defines it is finalized once, when its last reference
//! goes. The dropped instance's state moves into a new instance that waits in a queue; the
//! VM runs the queued finalizers at its next call or return (where it also closes dropped
//! generators), in the order the instances died, and at exit while releasing `__main__`'s
//! globals in order.

use std::cell::{Cell, RefCell};
use std::collections::{HashSet, VecDeque};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::dict::DictObj;
use crate::objects::Instance;
use crate::pystr::{intern, PyStr};
use crate::types::Type;
use crate::value::Value;
use crate::vm::Vm;

thread_local! {
    /// Instances whose `__del__` is due.
    static PENDING: RefCell<VecDeque<Rc<Instance>>> = const { RefCell::new(VecDeque::new()) };
    /// Addresses of the instances created for finalization (never finalized twice).
    static FINALIZED: RefCell<HashSet<usize>> = RefCell::new(HashSet::new());
    /// The interned name `__del__`.
    static DEL: Rc<PyStr> = intern("__del__");
    /// Whether finalizers are running now.
    static RUNNING: Cell<bool> = const { Cell::new(false) };
}

/// Set once any class has defined `__del__`: until then dropping an instance costs one load.
static ANY_DEL: AtomicBool = AtomicBool::new(false);

/// Records that a class namespace now has `__del__` (class creation or assignment).
pub fn enable() {
    ANY_DEL.store(true, Ordering::Relaxed);
}

/// Whether any class has defined `__del__` (until then no finalizer can be due).
#[inline(always)]
pub fn any() -> bool {
    ANY_DEL.load(Ordering::Relaxed)
}

/// Whether instances of `t` have a `__del__` (false while the thread's state is being torn
/// down).
fn has_finalizer(t: &Type) -> bool {
    if t.builtin {
        return false;
    }
    DEL.try_with(|del| t.has_finalizer(del)).unwrap_or(false)
}

/// Called when an instance is dropped (once [`any`] holds): queues its state for `__del__`
/// when its class has one.
#[inline(never)]
pub fn on_drop(inst: &mut Instance) {
    // The record of an instance finalized before goes with it, whatever its class now says:
    // a later instance at the same address must not be taken for it.
    let addr = inst as *const Instance as usize;
    let Ok(again) = FINALIZED.try_with(|f| f.borrow_mut().remove(&addr)) else {
        return;
    };
    if again || !has_finalizer(&inst.class) {
        return;
    }
    let revived = Rc::new(Instance {
        class: inst.class.clone(),
        dict: inst.dict.clone(),
        exc: inst.exc.take(),
        payload: std::mem::take(&mut inst.payload),
        slots: RefCell::new(inst.slots.take()),
    });
    let queued = FINALIZED.try_with(|f| {
        f.borrow_mut().insert(Rc::as_ptr(&revived) as usize);
    });
    if queued.is_ok()
        && PENDING
            .try_with(|p| p.borrow_mut().push_back(revived))
            .is_ok()
    {
        crate::objects::ANY_PENDING_CLOSE.set(true);
    }
}

impl Vm {
    /// Runs the queued `__del__` methods (errors in them are ignored, as CPython ignores
    /// them after reporting).
    pub fn run_finalizers(&mut self) {
        // Calls inside a finalizer must not start the next one (it would run first).
        if RUNNING.replace(true) {
            return;
        }
        while let Some(inst) = PENDING.with(|p| p.borrow_mut().pop_front()) {
            let del = DEL.with(Rc::clone);
            if let Some(f) = inst.class.lookup(&del) {
                let obj = Value::Instance(inst);
                let _ = self.call_special_method(&f, &obj);
            }
        }
        RUNNING.set(false);
    }

    fn call_special_method(&mut self, f: &Value, obj: &Value) -> crate::vm::PyResult<Value> {
        let bound = self.bind_descriptor(f.clone(), obj, None)?;
        self.call(&bound, &[], &[])
    }

    /// Interpreter exit: releases the main module's globals in their order (as CPython's
    /// deallocation of the module dict does), finalizing as it goes.
    pub fn finalize_main(&mut self, globals: &Rc<DictObj>) {
        self.run_finalizers();
        let keys: Vec<Value> = globals
            .map
            .borrow()
            .iter()
            .map(|(k, _)| k.clone())
            .collect();
        for k in &keys {
            let Value::Str(s) = k else { continue };
            if !matches!(globals.get_str(s), None | Some(Value::None)) {
                globals.set_str(s, Value::None);
                self.run_finalizers();
            }
        }
    }
}
