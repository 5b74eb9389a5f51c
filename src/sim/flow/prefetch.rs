//! Prefetching the state of the events to come. Once a system outgrows the cache, the first
//! touch of each event's link and instance is a miss the event waits for. The tick's known
//! events sit sorted in the agenda's batch, so while one event is handled the state of those a
//! few places behind it can already be on its way: three stages, each reading only what the
//! stage before brought in. Far ahead, where the event waits (its batch or slab entry); nearer,
//! the link or instance it happens to; next, what those lead to (the receiver's instance, the
//! worker's slot, the link a finished service goes on over, the component's info), found through
//! the topology's dense table of sole instances and ways out (`Topology::sole`). A prefetch is a
//! hint with no effect on what the simulation computes. It is only issued when the links and
//! instances outgrow a core's cache (`worth_it`).

use crate::sim::flow::agenda::{Agenda, Touch};
use crate::sim::flow::core::FlowCore;
use crate::sim::flow::instance::Instance;
use crate::sim::flow::link::Link;
use crate::sim::schedule::topology::Topology;

/// Places ahead in the batch: where the event waits, its target, what the target leads to.
const ENTRY: usize = 8;
const TARGET: usize = 4;
const DEEPER: usize = 1;

/// Bytes of links and instances above which prefetching pays: four times a core's L2 cache.
/// Below it, measured, the prefetches cost more than they saved (netflix_friday ran 20% slower
/// with them) or made no difference (1,000 components, 3 MB).
const WORTH_ABOVE: usize = 8 << 20;

/// Whether the flow's links and instances outgrow the cache, so that prefetching pays.
pub(in crate::sim) fn worth_it(net: &FlowCore) -> bool {
    let links = net.links.len() * std::mem::size_of::<Link>();
    let instances = net.instances.len() * std::mem::size_of::<Instance>();
    links + instances > WORTH_ABOVE
}

/// Asks for the memory of the events a few places behind the next one (see the module doc).
/// Never inlined: the event loop of a system that fits in the cache stays as lean as without it.
#[inline(never)]
pub(in crate::sim) fn ahead(agenda: &Agenda, net: &FlowCore, topo: &Topology) {
    if let Some(p) = agenda.entry_at(ENTRY) {
        line(p);
    }
    match agenda.touch(TARGET) {
        Some(Touch::Link(l)) => {
            if let Some(link) = net.links.get(l as usize) {
                lines(link);
            }
        }
        Some(Touch::Instance(i, _)) => instance(net, i),
        Some(Touch::Answer {
            link, instance: i, ..
        }) => {
            if let Some(link) = net.links.get(link as usize) {
                lines(link);
            }
            instance(net, i);
        }
        None => {}
    }
    match agenda.touch(DEEPER) {
        Some(Touch::Link(l)) => {
            // A request arriving goes to one of the receiver's instances; with one, it is known.
            if let Some(link) = net.links.get(l as usize) {
                let c = link.to;
                if let Some(inst) = topo
                    .sole(c)
                    .instance()
                    .and_then(|i| net.instances.get(i as usize))
                {
                    lines(inst);
                }
                component(topo, c);
            }
        }
        Some(
            Touch::Instance(i, Some(w))
            | Touch::Answer {
                instance: i,
                worker: w,
                ..
            },
        ) => {
            if let Some(inst) = net.instances.get(i as usize) {
                if let Some(slot) = inst.worker_slot(w) {
                    lines(slot);
                }
                // A service done goes on to the next hop: with one way out, it is known.
                let c = inst.component;
                if let Some(link) = topo.sole(c).out().and_then(|l| net.links.get(l as usize)) {
                    lines(link);
                }
                component(topo, c);
            }
        }
        Some(Touch::Instance(_, None)) | None => {}
    }
}

/// Asks for the info of component `c` (its address is known without reading anything): an
/// arrival reads its load shedding, a finished service its cache ratio and ways out.
#[inline]
fn component(topo: &Topology, c: u32) {
    if let Some(info) = topo.components.get(c as usize) {
        lines(info);
    }
}

/// Asks for every cache line of instance `i`.
#[inline]
fn instance(net: &FlowCore, i: u32) {
    if let Some(inst) = net.instances.get(i as usize) {
        lines(inst);
    }
}

/// Asks for every cache line of `item`.
#[inline]
pub(in crate::sim) fn lines<T>(item: &T) {
    let start = (item as *const T).cast::<u8>();
    let size = std::mem::size_of::<T>();
    for offset in (0..size).step_by(64) {
        line(start.wrapping_add(offset));
    }
    if size > 0 {
        line(start.wrapping_add(size - 1));
    }
}

/// Asks for the cache line holding `p`. It never faults and changes nothing the program can
/// observe, whatever `p` points to.
#[inline(always)]
#[allow(unused_unsafe)]
pub(in crate::sim) fn line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it reads nothing the program sees and cannot fault.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
