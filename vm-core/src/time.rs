//! The `time` module's clocks and `sleep` (the calendar functions, `localtime`, `strftime`
//! and `struct_time`, are not there yet).

use std::rc::Rc;
use std::time::Duration;

use rustix::time::{clock_gettime, ClockId};

use crate::builtins::{builtin, nargs};
use crate::objects::{Module, NativeFn};
use crate::pystr::PyStr;
use crate::value::Value;
use crate::vm::{PyResult, Vm};

type Args<'a> = &'a [Value];
type Kw<'a> = &'a [Rc<PyStr>];

/// The `time` module.
pub fn module() -> Value {
    let functions: &[(&str, NativeFn)] = &[
        ("time", time),
        ("time_ns", time_ns),
        ("perf_counter", monotonic),
        ("perf_counter_ns", monotonic_ns),
        ("monotonic", monotonic),
        ("monotonic_ns", monotonic_ns),
        ("process_time", process_time),
        ("process_time_ns", process_time_ns),
        ("thread_time", thread_time),
        ("thread_time_ns", thread_time_ns),
        ("sleep", sleep),
    ];
    Module::native(
        "time",
        functions.iter().map(|&(name, f)| (name, builtin(name, f))),
    )
}

/// A clock's reading in nanoseconds.
fn nanoseconds(clock: ClockId) -> i64 {
    let t = clock_gettime(clock);
    t.tv_sec * 1_000_000_000 + t.tv_nsec
}

fn seconds(clock: ClockId) -> Value {
    let t = clock_gettime(clock);
    Value::Float(t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9)
}

fn time(_: &mut Vm, _: Args, _: Kw) -> PyResult<Value> {
    Ok(seconds(ClockId::Realtime))
}

fn time_ns(_: &mut Vm, _: Args, _: Kw) -> PyResult<Value> {
    Ok(Value::Int(nanoseconds(ClockId::Realtime)))
}

fn monotonic(_: &mut Vm, _: Args, _: Kw) -> PyResult<Value> {
    Ok(seconds(ClockId::Monotonic))
}

fn monotonic_ns(_: &mut Vm, _: Args, _: Kw) -> PyResult<Value> {
    Ok(Value::Int(nanoseconds(ClockId::Monotonic)))
}

fn process_time(_: &mut Vm, _: Args, _: Kw) -> PyResult<Value> {
    Ok(seconds(ClockId::ProcessCPUTime))
}

fn process_time_ns(_: &mut Vm, _: Args, _: Kw) -> PyResult<Value> {
    Ok(Value::Int(nanoseconds(ClockId::ProcessCPUTime)))
}

fn thread_time(_: &mut Vm, _: Args, _: Kw) -> PyResult<Value> {
    Ok(seconds(ClockId::ThreadCPUTime))
}

fn thread_time_ns(_: &mut Vm, _: Args, _: Kw) -> PyResult<Value> {
    Ok(Value::Int(nanoseconds(ClockId::ThreadCPUTime)))
}

/// `sleep(secs)`: ints and floats; negative or NaN durations are a ValueError.
fn sleep(vm: &mut Vm, args: Args, _: Kw) -> PyResult<Value> {
    nargs(vm, "sleep", args, 1, 1)?;
    let secs = match &args[0] {
        Value::Float(f) => *f,
        Value::Int(i) => *i as f64,
        Value::Bool(b) => f64::from(u8::from(*b)),
        other => {
            let name = vm.type_name(other);
            return Err(vm.type_error(format!(
                "'{name}' object cannot be interpreted as an integer"
            )));
        }
    };
    if secs.is_nan() {
        return Err(vm.value_error("Invalid value NaN (not a number)"));
    }
    if secs < 0.0 {
        return Err(vm.value_error("sleep length must be non-negative"));
    }
    let duration = Duration::try_from_secs_f64(secs)
        .map_err(|_| vm.err("OverflowError", "sleep length is too large"))?;
    std::thread::sleep(duration);
    Ok(Value::None)
}
