//! A link's wire: what is on its way across it, in sending order. Each tick takes what arrives
//! before its end; the rest stays where it is. The arrival times sit in a compact array of their
//! own, so finding what is due reads 8 bytes per message and moves nothing; a delivered message
//! leaves a hole that the front closes as it goes (and a sweep, when holes are most of the wire).

use crate::sim::schedule::dist::Nanos;

/// Something on its way across a link.
#[derive(Debug, Clone, Copy)]
pub struct Transit<T> {
    /// When it left (ns).
    pub depart: Nanos,
    /// When it arrives (ns).
    pub arrive: Nanos,
    /// Order of sending on this link, to break ties deterministically.
    pub seq: u64,
    /// The request or response.
    pub msg: T,
}

/// In `Wire::times`: the message there was delivered.
const GONE: Nanos = Nanos::MAX;

/// Holes the wire keeps before it sweeps them out (once they are also most of it).
const SWEEP_AT: usize = 256;

/// Messages on one lane of a link (requests forward, or responses back), in sending order.
#[derive(Clone)]
pub struct Wire<T> {
    /// Arrival time of each slot from `head` on (`GONE`: delivered).
    times: Vec<Nanos>,
    /// The messages, slot for slot with `times`.
    items: Vec<Transit<T>>,
    /// First slot that may still hold a message.
    head: usize,
    /// Messages still on the wire.
    live: usize,
}

impl<T> Default for Wire<T> {
    fn default() -> Self {
        Self {
            times: Vec::new(),
            items: Vec::new(),
            head: 0,
            live: 0,
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Wire<T> {
    /// The messages on the wire, in sending order (not where the holes are).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T> Wire<T> {
    /// Puts a message on the wire, after every one sent before it.
    pub fn push(&mut self, t: Transit<T>) {
        debug_assert!(t.arrive != GONE, "an arrival at the end of time");
        self.times.push(t.arrive);
        self.items.push(t);
        self.live += 1;
    }

    /// Messages on the wire.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Nothing on the wire.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The messages on the wire, in sending order.
    pub fn iter(&self) -> impl Iterator<Item = &Transit<T>> {
        let times = &self.times[self.head..];
        self.items[self.head..]
            .iter()
            .zip(times)
            .filter(|(_, a)| **a != GONE)
            .map(|(t, _)| t)
    }

    /// Hands `take` every message arriving before `until`, in sending order, and takes them
    /// off; returns the earliest arrival of what stays (`Nanos::MAX`: nothing).
    pub fn take_due(&mut self, until: Nanos, mut take: impl FnMut(&Transit<T>)) -> Nanos {
        let mut due = GONE;
        let (times, items) = (&mut self.times[self.head..], &self.items[self.head..]);
        for (a, t) in times.iter_mut().zip(items) {
            if *a < until {
                take(t);
                *a = GONE;
                self.live -= 1;
            } else if *a < due {
                due = *a;
            }
        }
        self.close_front();
        due
    }

    /// Closes the holes at the front, and sweeps the rest out when they are most of the wire.
    fn close_front(&mut self) {
        while self.head < self.times.len() && self.times[self.head] == GONE {
            self.head += 1;
        }
        let len = self.times.len() - self.head;
        if self.live == 0 {
            self.times.clear();
            self.items.clear();
            self.head = 0;
        } else if len - self.live > SWEEP_AT && len - self.live > self.live {
            let mut keep = self.times[self.head..].iter().map(|a| *a != GONE);
            let skip = self.head;
            let mut n = 0;
            self.items.retain(|_| {
                n += 1;
                n > skip && keep.next().unwrap_or(false)
            });
            self.times.retain(|a| *a != GONE);
            self.head = 0;
        } else if self.head > SWEEP_AT && self.head * 2 > self.times.len() {
            self.times.drain(..self.head);
            self.items.drain(..self.head);
            self.head = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(arrive: Nanos, seq: u64) -> Transit<u64> {
        Transit {
            depart: 0,
            arrive,
            seq,
            msg: seq,
        }
    }

    fn take(w: &mut Wire<u64>, until: Nanos) -> (Vec<u64>, Nanos) {
        let mut got = vec![];
        let due = w.take_due(until, |t| got.push(t.msg));
        (got, due)
    }

    #[test]
    fn what_arrives_before_the_end_leaves_in_sending_order() {
        let mut w = Wire::default();
        for (seq, arrive) in [(1, 30), (2, 10), (3, 50), (4, 20)] {
            w.push(at(arrive, seq));
        }
        assert_eq!(take(&mut w, 25), (vec![2, 4], 30));
        assert_eq!(w.len(), 2);
        let left: Vec<u64> = w.iter().map(|t| t.msg).collect();
        assert_eq!(left, vec![1, 3]);
        assert_eq!(take(&mut w, 25), (vec![], 30));
        assert_eq!(take(&mut w, 100), (vec![1, 3], Nanos::MAX));
        assert!(w.is_empty() && w.iter().next().is_none());
    }

    #[test]
    fn a_slow_message_at_the_front_keeps_the_wire_short() {
        // One message that arrives late, then many that arrive at once, tick after tick: the
        // holes behind the slow one are swept, so the wire holds about what is on it.
        let mut w = Wire::default();
        w.push(at(1_000_000, 0));
        for tick in 0..10_000u64 {
            w.push(at(tick + 1, tick + 1));
            let (got, due) = take(&mut w, tick + 2);
            assert_eq!(got, vec![tick + 1]);
            assert_eq!(due, 1_000_000);
            assert!(w.times.len() <= 2 * SWEEP_AT + 2, "{} slots", w.times.len());
        }
        assert_eq!(w.len(), 1);
        assert_eq!(take(&mut w, Nanos::MAX - 1), (vec![0], Nanos::MAX));
    }

    #[test]
    fn a_clone_shows_the_same_messages() {
        let mut w = Wire::default();
        for seq in 0..600 {
            w.push(at(if seq % 3 == 0 { 5000 } else { 10 }, seq));
        }
        take(&mut w, 100);
        let c = w.clone();
        assert_eq!(format!("{w:?}"), format!("{c:?}"));
        assert_eq!(c.len(), 200);
        assert!(c.iter().all(|t| t.arrive == 5000 && t.seq % 3 == 0));
    }
}
