//! The bounds every render keeps whatever the input: a writer that stops
//! at [`MAX_OUTPUT`] bytes, and a runtime that stops loops past
//! [`MAX_ITERATIONS`] iterations and refuses a variable past [`MAX_OUTPUT`].

use std::cell::Cell;

use liquid_core::model::{KString, ScalarCow, ValueCow};
use liquid_core::runtime::{Interrupt, InterruptRegister, PartialStore, Registers};
use liquid_core::{Runtime, Value, ValueView};

use super::{MAX_ITERATIONS, MAX_OUTPUT};

/// A writer that refuses to grow past `limit`.
pub(super) struct Limited {
    pub(super) bytes: Vec<u8>,
    pub(super) limit: usize,
}

impl std::io::Write for Limited {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > self.limit {
            return Err(std::io::Error::other(format!(
                "the Liquid output passes {} MiB",
                self.limit / (1024 * 1024)
            )));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The runtime every render runs in: liquid-rust's, with a budget. Each
/// loop iteration ends by asking for the registers, so they count the
/// iterations; past the budget every loop is told to break. Every
/// `assign` and `capture` goes through `set_global`, which refuses a value
/// past [`MAX_OUTPUT`].
pub(super) struct Bounded<R> {
    pub(super) inner: R,
    pub(super) iterations: Cell<u64>,
    pub(super) exceeded: Cell<Option<&'static str>>,
}

impl<R: Runtime> Bounded<R> {
    fn exceed(&self, why: &'static str) {
        if self.exceeded.get().is_none() {
            self.exceeded.set(Some(why));
        }
    }
}

impl<R: Runtime> Runtime for Bounded<R> {
    fn partials(&self) -> &dyn PartialStore {
        self.inner.partials()
    }

    fn name(&self) -> Option<liquid_core::model::KStringRef<'_>> {
        self.inner.name()
    }

    fn roots(&self) -> std::collections::BTreeSet<liquid_core::model::KStringCow<'_>> {
        self.inner.roots()
    }

    fn try_get(&self, path: &[ScalarCow<'_>]) -> Option<ValueCow<'_>> {
        self.inner.try_get(path)
    }

    fn get(&self, path: &[ScalarCow<'_>]) -> liquid_core::Result<ValueCow<'_>> {
        // Jekyll's Liquid is lax: a variable that is not there is nil.
        Ok(self
            .inner
            .try_get(path)
            .unwrap_or(ValueCow::Owned(Value::Nil)))
    }

    fn set_global(&self, name: KString, val: Value) -> Option<Value> {
        if weight(&val, MAX_OUTPUT) > MAX_OUTPUT {
            self.exceed("a Liquid variable grows past 16 MiB");
            self.inner
                .registers()
                .get_mut::<InterruptRegister>()
                .set(Interrupt::Break);
            return self.inner.set_global(name, Value::Nil);
        }
        self.inner.set_global(name, val)
    }

    fn set_index(&self, name: KString, val: Value) -> Option<Value> {
        self.inner.set_index(name, val)
    }

    fn get_index<'a>(&'a self, name: &str) -> Option<ValueCow<'a>> {
        self.inner.get_index(name)
    }

    fn registers(&self) -> &Registers {
        let registers = self.inner.registers();
        let count = self.iterations.get() + 1;
        self.iterations.set(count);
        if count > MAX_ITERATIONS {
            self.exceed("Liquid loops run past a million iterations");
            registers
                .get_mut::<InterruptRegister>()
                .set(Interrupt::Break);
        }
        registers
    }
}

/// A value's size in bytes, roughly, counted no further than `budget`.
fn weight(value: &dyn ValueView, budget: usize) -> usize {
    if let Some(array) = value.as_array() {
        let mut total = 16;
        for item in array.values() {
            total += weight(item, budget - total.min(budget));
            if total > budget {
                break;
            }
        }
        total
    } else if let Some(object) = value.as_object() {
        let mut total = 16;
        for (key, item) in object.iter() {
            total += key.len() + weight(item, budget - total.min(budget));
            if total > budget {
                break;
            }
        }
        total
    } else {
        value.to_kstr().len()
    }
}
