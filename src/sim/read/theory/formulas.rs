//! Closed forms of the single-station queues: M/M/c by Erlang C, M/M/c/K by its birth-death
//! distribution, M/G/1 by Pollaczek-Khinchine. Rates per second, times in seconds; every
//! figure is a steady-state mean. Numerically stable for thousands of servers and millions of
//! places (Erlang B's recursion; the M/M/c/K tail summed as a geometric series in logs).

/// What a station's steady state predicts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// Utilisation of each server: the carried load over the servers (0-1).
    pub rho: f64,
    /// Probability that an admitted arrival waits for a server.
    pub p_wait: f64,
    /// Mean number waiting (not in service).
    pub lq: f64,
    /// Mean number in the station (waiting and in service).
    pub l: f64,
    /// Mean time in the station of an admitted request (s).
    pub w: f64,
    /// Mean wait before service of an admitted request (s).
    pub wq: f64,
    /// Probability that an arrival finds the station full and is dropped (0 when unbounded).
    pub p_drop: f64,
}

/// Erlang C: the probability that an arrival to an M/M/c queue with offered load `a` = λ/μ
/// waits; `None` when `a >= c` (no steady state). Through Erlang B's recursion, which neither
/// overflows nor loses precision for large `c`.
pub fn erlang_c(c: u32, a: f64) -> Option<f64> {
    if c == 0 || a >= c as f64 || !a.is_finite() || a < 0.0 {
        return None;
    }
    let b = erlang_b(c, a);
    let rho = a / c as f64;
    Some(b / (1.0 - rho * (1.0 - b)))
}

/// Erlang B: the blocking probability of c servers and no waiting room at offered load `a`.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    b
}

/// M/M/c: Poisson arrivals at `lambda`, `c` exponential servers of rate `mu`, room for any
/// number. `None` when λ ≥ cμ: the queue grows without bound.
pub fn mmc(lambda: f64, mu: f64, c: u32) -> Option<Prediction> {
    let a = lambda / mu;
    let p_wait = erlang_c(c, a)?;
    let rho = a / c as f64;
    let lq = p_wait * rho / (1.0 - rho);
    let wq = if lambda > 0.0 { lq / lambda } else { 0.0 };
    let w = wq + 1.0 / mu;
    Some(Prediction {
        rho,
        p_wait,
        lq,
        l: lq + a,
        w,
        wq,
        p_drop: 0.0,
    })
}

/// `(ln Σ_{j=0..=m} r^j, E[j])` for weights proportional to `r^j`: the waiting positions of
/// an M/M/c/K queue beyond its `c` servers. Stable for `r` above, at or below 1 and large `m`.
fn geometric(r: f64, m: u64) -> (f64, f64) {
    let mf = m as f64;
    if (r - 1.0).abs() < 1e-12 {
        return ((mf + 1.0).ln(), mf / 2.0);
    }
    // For q < 1: S0 = Σ q^j = (1 - q^(m+1)) / (1 - q), S1 = Σ j q^j.
    let sums = |q: f64| {
        let qm = q.powf(mf);
        let s0 = (1.0 - qm * q) / (1.0 - q);
        let s1 = q * (1.0 - (mf + 1.0) * qm + mf * qm * q) / ((1.0 - q) * (1.0 - q));
        (s0, s1)
    };
    if r < 1.0 {
        let (s0, s1) = sums(r);
        (s0.ln(), s1 / s0)
    } else {
        // Σ r^j = r^m Σ q^i with q = 1/r and i = m - j.
        let (s0, s1) = sums(1.0 / r);
        (mf * r.ln() + s0.ln(), mf - s1 / s0)
    }
}

/// M/M/c/K: as M/M/c, but at most `k` requests in the station (`k >= c`: c in service and
/// k - c waiting); an arrival that finds it full is dropped. Exists at any load.
pub fn mmck(lambda: f64, mu: f64, c: u32, k: u64) -> Option<Prediction> {
    if c == 0 || k < c as u64 || lambda <= 0.0 || mu <= 0.0 {
        return None;
    }
    let a = lambda / mu;
    let cf = c as f64;
    // ln t_n for n < c, with t_n = a^n / n! (relative to p_0).
    let mut ln_t = Vec::with_capacity(c as usize + 1);
    let mut acc = 0.0;
    ln_t.push(0.0);
    for n in 1..=c {
        acc += a.ln() - (n as f64).ln();
        ln_t.push(acc);
    }
    let ln_tc = ln_t[c as usize];
    let r = a / cf;
    let m = k - c as u64;
    let (ln_tail, mean_j) = geometric(r, m);
    // ln Z = logsumexp(ln t_0 .. ln t_{c-1}, ln t_c + ln Σ r^j).
    let ln_tail_total = ln_tc + ln_tail;
    let top = ln_t[..c as usize]
        .iter()
        .copied()
        .fold(ln_tail_total, f64::max);
    let below: f64 = ln_t[..c as usize].iter().map(|x| (x - top).exp()).sum();
    let ln_z = top + (below + (ln_tail_total - top).exp()).ln();
    let p = |ln: f64| (ln - ln_z).exp();
    // Probabilities: p_n for n < c, the tail's total mass and its last state (full).
    let tail_mass = p(ln_tail_total);
    let p_full = p(ln_tc + m as f64 * r.ln());
    let busy_below: f64 = (0..c as usize).map(|n| n as f64 * p(ln_t[n])).sum();
    let lq = tail_mass * mean_j;
    let l = busy_below + tail_mass * cf + lq;
    let lambda_in = lambda * (1.0 - p_full);
    let w = if lambda_in > 0.0 { l / lambda_in } else { 0.0 };
    let wq = if lambda_in > 0.0 { lq / lambda_in } else { 0.0 };
    // An admitted arrival waits when it finds c or more present (and the station not full).
    let p_wait = if p_full < 1.0 {
        ((tail_mass - p_full) / (1.0 - p_full)).max(0.0)
    } else {
        1.0
    };
    Some(Prediction {
        rho: lambda_in / (cf * mu),
        p_wait,
        lq,
        l,
        w,
        wq,
        p_drop: p_full,
    })
}

/// M/G/1 by Pollaczek-Khinchine: Poisson arrivals at `lambda`, one server whose service time
/// has mean `s` (seconds) and squared coefficient of variation `cs2` (0 deterministic, 1
/// exponential). `None` when λs ≥ 1.
pub fn mg1(lambda: f64, s: f64, cs2: f64) -> Option<Prediction> {
    let rho = lambda * s;
    if !(0.0..1.0).contains(&rho) {
        return None;
    }
    let wq = rho * s * (1.0 + cs2) / (2.0 * (1.0 - rho));
    let lq = lambda * wq;
    Some(Prediction {
        rho,
        p_wait: rho,
        lq,
        l: lq + rho,
        w: wq + s,
        wq,
        p_drop: 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-12)
    }

    #[test]
    fn erlang_c_matches_textbook_values() {
        // Two servers at a = 1: C = 1/3. Kleinrock's M/M/1: C = rho.
        assert!(close(erlang_c(2, 1.0).unwrap(), 1.0 / 3.0, 1e-12));
        assert!(close(erlang_c(1, 0.8).unwrap(), 0.8, 1e-12));
        // Ten agents, 8 Erlangs offered: the classic call-centre table gives 0.409.
        assert!((erlang_c(10, 8.0).unwrap() - 0.4092).abs() < 5e-4);
        // Thousands of servers do not overflow.
        let big = erlang_c(5000, 4900.0).unwrap();
        assert!(big > 0.0 && big < 1.0, "{big}");
        assert_eq!(erlang_c(4, 4.0), None);
    }

    #[test]
    fn mm1_has_its_closed_forms() {
        let p = mmc(800.0, 1000.0, 1).unwrap();
        assert!(close(p.rho, 0.8, 1e-12));
        assert!(close(p.l, 4.0, 1e-12));
        assert!(close(p.lq, 3.2, 1e-12));
        assert!(close(p.w, 0.005, 1e-12));
        assert!(mmc(1000.0, 1000.0, 1).is_none());
    }

    #[test]
    fn mmck_matches_the_birth_death_sum_and_tends_to_mmc() {
        // M/M/1/10 at 0.9, summed directly: p_n = rho^n (1 - rho) / (1 - rho^11).
        let rho: f64 = 0.9;
        let z: f64 = (0..=10).map(|n| rho.powi(n)).sum();
        let p_full = rho.powi(10) / z;
        let l: f64 = (0..=10).map(|n| n as f64 * rho.powi(n) / z).sum();
        let p = mmck(900.0, 1000.0, 1, 10).unwrap();
        assert!(close(p.p_drop, p_full, 1e-10), "{} {p_full}", p.p_drop);
        assert!(close(p.l, l, 1e-10));
        assert!(close(p.w, l / (900.0 * (1.0 - p_full)), 1e-10));
        // Overloaded but bounded: a steady state exists, and the station is nearly full.
        let over = mmck(2000.0, 1000.0, 1, 20).unwrap();
        assert!(close(over.p_drop, 0.5, 1e-3) && over.l > 18.0, "{over:?}");
        // Room that is never used: the same as M/M/c.
        let (a, b) = (
            mmck(3400.0, 1000.0, 4, 100_000).unwrap(),
            mmc(3400.0, 1000.0, 4).unwrap(),
        );
        assert!(close(a.w, b.w, 1e-9) && close(a.p_wait, b.p_wait, 1e-9));
        assert!(a.p_drop < 1e-12);
        // Four servers, two places waiting, summed by hand.
        let (lam, mu) = (3.0, 1.0);
        let t: Vec<f64> = vec![1.0, 3.0, 4.5, 4.5, 3.375, 2.53125, 1.8984375];
        let z: f64 = t.iter().sum();
        let p = mmck(lam, mu, 4, 6).unwrap();
        assert!(close(p.p_drop, t[6] / z, 1e-12));
        let lq = (t[5] + 2.0 * t[6]) / z;
        assert!(close(p.lq, lq, 1e-12), "{} {lq}", p.lq);
    }

    #[test]
    fn pollaczek_khinchine_halves_the_wait_of_deterministic_service() {
        let d = mg1(850.0, 0.001, 0.0).unwrap();
        let m = mg1(850.0, 0.001, 1.0).unwrap();
        assert!(close(d.wq * 2.0, m.wq, 1e-12));
        assert!(close(m.w, mmc(850.0, 1000.0, 1).unwrap().w, 1e-12));
        assert!(mg1(1000.0, 0.001, 0.0).is_none());
    }
}
