//! A link as a plain state machine, through its outputs: when what it carries arrives, what
//! its window sends, holds and refuses, what its credits let through, what a lossy fault does.

use super::*;
use crate::scenario::WindowSpec;
use crate::sim::flow::request::{Outcome, Reply};

const MS: Nanos = 1_000_000;
const LATENCY: Nanos = 5 * MS;

/// A link from source 0 to component 1 with a fixed one-way latency of 5 ms.
fn link() -> Link {
    Link::new(
        3,
        "users->api".into(),
        NodeRef::Source(0),
        1,
        CallKind::Sync,
        Balancing::RoundRobin,
        Duration::new(LATENCY as f64, crate::scenario::Shape::Deterministic),
        1,
    )
}

fn req(id: u64, at: Nanos) -> Request {
    Request::sample(id, at, Priority::Medium)
}

fn answer(r: Request, at: Nanos) -> Response {
    Response {
        at,
        req: r,
        status: Reply::Ok,
    }
}

#[test]
fn what_arrives_inside_the_tick_comes_back_at_once_and_the_rest_waits_on_the_wire() {
    let mut l = link();
    // Sent at 1 ms in a tick ending at 10 ms: arrives at 6 ms, in this tick, by this link.
    let (at, r) = l.send(req(1, MS), 10 * MS).expect("arrives in the tick");
    assert_eq!((at, r.at, r.via), (6 * MS, 6 * MS, 3));
    // Sent at 8 ms: arrives at 13 ms, after the tick; it waits on the wire.
    assert!(l.send(req(2, 8 * MS), 10 * MS).is_none());
    assert_eq!(l.next_due(), 13 * MS);
    assert_eq!(l.in_transit(), 1);
    let (mut reqs, mut resps) = (vec![], vec![]);
    l.take_due(13 * MS, &mut reqs, &mut resps);
    assert!(reqs.is_empty(), "not due before 13 ms");
    l.take_due(20 * MS, &mut reqs, &mut resps);
    assert_eq!(
        reqs.iter().map(|r| (r.id, r.at)).collect::<Vec<_>>(),
        [(2, 13 * MS)]
    );
    assert_eq!(l.next_due(), Nanos::MAX);
    // The answer goes back the same way, 5 ms.
    let back = l.reply(answer(reqs[0], 15 * MS), 30 * MS);
    assert!(back.is_some_and(|(t, r)| t == 20 * MS && r.at == 20 * MS));
    assert_eq!((l.counters.sent, l.counters.responses_sent), (2, 1));
}

#[test]
fn a_window_sends_up_to_its_max_holds_its_buffer_and_refuses_the_rest() {
    let mut l = link();
    l.window = Some(Window::new(WindowSpec { max: 2, buffer: 1 }, 1));
    let admitted: Vec<Admit> = (1..=4).map(|id| l.admit(req(id, 0))).collect();
    assert!(matches!(admitted[0], Admit::Send(r) if r.id == 1));
    assert!(matches!(admitted[1], Admit::Send(r) if r.id == 2));
    assert!(matches!(admitted[2], Admit::Windowed));
    assert!(matches!(admitted[3], Admit::Refused(r) if r.id == 4));
    assert_eq!((l.counters.windowed_out, l.held()), (1, 1));
    // An answer opens the window by one: the waiting request goes at the answer's time.
    let next = l.window_answered(&answer(req(1, 0), 30 * MS));
    assert!(matches!(next, Some(r) if r.id == 3 && r.at == 30 * MS));
    assert_eq!(l.window.as_ref().map(|w| w.in_flight), Some(2));
    assert!(l.window_answered(&answer(req(2, 0), 31 * MS)).is_none());
    assert!(l.window_answered(&answer(req(3, 0), 32 * MS)).is_none());
    assert_eq!(l.window.as_ref().map(|w| w.in_flight), Some(0));
    assert_eq!(l.held(), 0);
}

#[test]
fn credits_come_back_when_the_receiver_is_done_not_with_an_answer() {
    let mut l = link();
    l.window = Some(Window {
        credit: true,
        ..Window::new(WindowSpec { max: 1, buffer: 5 }, 1)
    });
    assert!(l.has_credits());
    assert!(matches!(l.admit(req(1, 0)), Admit::Send(_)));
    assert!(matches!(l.admit(req(2, 0)), Admit::Windowed));
    // An answer does not give the credit back...
    assert!(l.window_answered(&answer(req(1, 0), 3 * MS)).is_none());
    assert_eq!(l.held(), 1);
    // ...the receiver being done with the message does, and the next goes with it.
    assert_eq!(l.credit_arrives(4 * MS), 4 * MS + LATENCY);
    let next = l.credit_returned(9 * MS);
    assert!(matches!(next, Some(r) if r.id == 2 && r.at == 9 * MS));
    assert_eq!(l.held(), 0);
}

#[test]
fn a_lossy_fault_loses_requests_and_the_sender_hears_of_each_as_a_failure() {
    let mut l = link();
    l.fault = Some(LinkFault {
        from: 10 * MS,
        until: 20 * MS,
        added: 2 * MS,
        loss: 1.0,
        lost_after: 7 * MS,
    });
    // Before the fault: delivered in 5 ms.
    assert!(
        l.send(req(1, 0), 100 * MS)
            .is_some_and(|(t, _)| t == LATENCY)
    );
    // During it: lost; the failure reaches the sender 7 ms after sending.
    assert!(l.send(req(2, 12 * MS), 100 * MS).is_none());
    let (mut reqs, mut resps) = (vec![], vec![]);
    l.take_due(100 * MS, &mut reqs, &mut resps);
    assert!(reqs.is_empty());
    let lost: Vec<_> = resps.iter().map(|r| (r.req.id, r.at, r.status)).collect();
    assert_eq!(lost, [(2, 19 * MS, Reply::Err(Outcome::Failed))]);
    assert_eq!((l.counters.sent, l.counters.lost), (2, 1));
    // After it: delivered in 5 ms again, nothing added.
    assert!(
        l.send(req(3, 20 * MS), 100 * MS)
            .is_some_and(|(t, _)| t == 25 * MS)
    );
}
