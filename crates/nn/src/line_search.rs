//! A line search satisfying the strong Wolfe conditions: Nocedal & Wright, *Numerical
//! Optimization* (2nd ed.), Algorithm 3.5 (bracketing) and 3.6 (zoom), with the cubic
//! interpolation of their eq. (3.59) for the trial steps.
//!
//! Along a descent direction `d` from `x`, with `φ(α) = f(x + α d)` and `φ'(α) = ∇f(x + α d)ᵀ d`
//! (`φ'(0) < 0`), a step `α > 0` is accepted when
//!
//! - sufficient decrease (Armijo): `φ(α) ≤ φ(0) + c₁ α φ'(0)`, and
//! - strong curvature: `|φ'(α)| ≤ c₂ |φ'(0)|`,
//!
//! with `0 < c₁ < c₂ < 1`. A non-finite `φ(α)` (the objective blew up) counts as a failed
//! sufficient decrease, so the search steps back.
//!
//! **Rounding floor** (optional, [`WolfeParams::approx_eps`] = ε > 0): near a minimum, an
//! objective computed in low precision (f32 models) changes by less than its rounding error,
//! so Armijo's test compares noise. With ε > 0 a step is also accepted under Hager & Zhang's
//! *approximate Wolfe* conditions (SIAM J. Optim. 16, 2005, eq. 4.2–4.3):
//! `φ(α) ≤ φ(0) + ε |φ(0)|` and `c₂ φ'(0) ≤ φ'(α) ≤ (2c₁ − 1) φ'(0)`; values within
//! `ε |φ(0)|` of each other count as equal when the bracket is updated, so the slopes decide.
//! ε = 0 (default) is the plain strong Wolfe search.

/// An objective for [`strong_wolfe`] and [`crate::Lbfgs`]: `eval(x, grad)` returns `f(x)` and
/// writes `∇f(x)` into `grad` (same length as `x`).
pub type Objective<'a, E> = dyn FnMut(&[f64], &mut [f64]) -> Result<f64, E> + 'a;

/// One evaluated point of a line search: step, value, directional derivative, gradient.
#[derive(Debug, Clone, PartialEq)]
pub struct LinePoint {
    /// Step length α.
    pub alpha: f64,
    /// `φ(α) = f(x + α d)` (`+∞` where the objective was not finite).
    pub value: f64,
    /// `φ'(α) = ∇f(x + α d)ᵀ d`.
    pub slope: f64,
    /// `∇f(x + α d)`.
    pub grad: Vec<f64>,
}

/// Constants of the strong Wolfe line search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WolfeParams {
    /// Sufficient-decrease constant c₁ (default 1e-4, N&W's usual).
    pub c1: f64,
    /// Curvature constant c₂ (default 0.9, for quasi-Newton directions).
    pub c2: f64,
    /// Most objective evaluations in one search (default 20).
    pub max_evals: usize,
    /// Relative rounding floor ε of the objective: > 0 turns on the approximate Wolfe
    /// acceptance (see the module docs); default 0.
    pub approx_eps: f64,
}

impl Default for WolfeParams {
    fn default() -> Self {
        Self {
            c1: 1e-4,
            c2: 0.9,
            max_evals: 20,
            approx_eps: 0.0,
        }
    }
}

/// What a line search found.
#[derive(Debug, Clone, PartialEq)]
pub struct LineSearchOutcome {
    /// The accepted point: the strong-Wolfe step, or (when `wolfe` is false) the lowest
    /// point found that satisfies sufficient decrease; `None` when no step decreased `f`.
    pub point: Option<LinePoint>,
    /// Whether `point` satisfies both strong Wolfe conditions (or, with
    /// [`WolfeParams::approx_eps`] > 0, the approximate Wolfe conditions).
    pub wolfe: bool,
    /// Objective evaluations used.
    pub evals: usize,
}

/// Minimiser of the cubic through `(a, fa, ga)` and `(b, fb, gb)` (N&W eq. 3.59), if it is a
/// finite point strictly inside the interval, moved at least 5 % of the interval's width away
/// from either end; otherwise the midpoint (bisection).
fn cubic_step(a: &LinePoint, b: &LinePoint) -> f64 {
    let (lo, hi) = (a.alpha.min(b.alpha), a.alpha.max(b.alpha));
    let mid = 0.5 * (lo + hi);
    let width = hi - lo;
    let d1 = a.slope + b.slope - 3.0 * (a.value - b.value) / (a.alpha - b.alpha);
    let disc = d1 * d1 - a.slope * b.slope;
    if !(disc.is_finite() && disc >= 0.0) {
        return mid;
    }
    let d2 = (b.alpha - a.alpha).signum() * disc.sqrt();
    let denom = b.slope - a.slope + 2.0 * d2;
    let t = b.alpha - (b.alpha - a.alpha) * (b.slope + d2 - d1) / denom;
    if !t.is_finite() || t <= lo || t >= hi {
        return mid;
    }
    t.clamp(lo + 0.05 * width, hi - 0.05 * width)
}

/// Searches along `dir` from `x` (value `f0`, gradient `g0`) for a step satisfying the strong
/// Wolfe conditions, starting with the trial step `alpha0`; `eval(point, grad)` returns
/// `f(point)` and writes `∇f(point)` into `grad`.
///
/// Bracketing (Alg. 3.5): trial steps double until one fails sufficient decrease, is no lower
/// than the previous one, or has `φ' ≥ 0`; the bracket is then zoomed (Alg. 3.6) with
/// safeguarded cubic interpolation. After `params.max_evals` evaluations without a strong-Wolfe
/// step it returns the best sufficient-decrease point found (`wolfe = false`), or none.
///
/// # Shapes
/// `x`, `g0`, `dir` all `[n]`.
///
/// # Errors
/// Whatever `eval` returns.
#[allow(clippy::too_many_arguments)]
pub fn strong_wolfe<E>(
    eval: &mut Objective<'_, E>,
    x: &[f64],
    f0: f64,
    g0: &[f64],
    dir: &[f64],
    alpha0: f64,
    params: &WolfeParams,
) -> Result<LineSearchOutcome, E> {
    let slope0 = dot(g0, dir);
    let mut evals = 0;
    let mut trial = vec![0.0; x.len()];
    let mut probe = |alpha: f64, evals: &mut usize| -> Result<LinePoint, E> {
        for ((t, &xi), &di) in trial.iter_mut().zip(x).zip(dir) {
            *t = xi + alpha * di;
        }
        let mut grad = vec![0.0; x.len()];
        let v = eval(&trial, &mut grad)?;
        *evals += 1;
        let value = if v.is_finite() { v } else { f64::INFINITY };
        let slope = if value.is_finite() {
            dot(&grad, dir)
        } else {
            f64::NAN
        };
        Ok(LinePoint {
            alpha,
            value,
            slope,
            grad,
        })
    };
    let noise = params.approx_eps * f0.abs();
    let approx = params.approx_eps > 0.0;
    // sufficient decrease: Armijo, or (approximate Wolfe) no rise beyond the rounding floor
    let armijo = |p: &LinePoint| {
        p.value <= f0 + params.c1 * p.alpha * slope0 || (approx && p.value <= f0 + noise)
    };
    let curvature = |p: &LinePoint| {
        let strong =
            p.slope.abs() <= -params.c2 * slope0 && p.value <= f0 + params.c1 * p.alpha * slope0;
        let approximate = approx
            && p.value <= f0 + noise
            && p.slope >= params.c2 * slope0
            && p.slope <= (2.0 * params.c1 - 1.0) * slope0;
        strong || approximate
    };
    let mut prev = LinePoint {
        alpha: 0.0,
        value: f0,
        slope: slope0,
        grad: g0.to_vec(),
    };
    let mut alpha = alpha0;
    let (mut lo, mut hi);
    loop {
        let cur = probe(alpha, &mut evals)?;
        if !armijo(&cur)
            || (prev.alpha > 0.0
                && (cur.value > prev.value + noise || (!approx && cur.value >= prev.value)))
        {
            (lo, hi) = (prev, cur);
            break;
        }
        if curvature(&cur) {
            return Ok(LineSearchOutcome {
                point: Some(cur),
                wolfe: true,
                evals,
            });
        }
        if cur.slope >= 0.0 {
            (lo, hi) = (cur, prev);
            break;
        }
        if evals >= params.max_evals {
            return Ok(LineSearchOutcome {
                point: Some(cur),
                wolfe: false,
                evals,
            });
        }
        prev = cur;
        alpha *= 2.0;
    }
    // zoom: lo satisfies sufficient decrease and is the lowest point so far; the bracket
    // [lo, hi] holds a strong-Wolfe step
    while evals < params.max_evals {
        let step = if hi.value.is_finite() {
            cubic_step(&lo, &hi)
        } else {
            0.5 * (lo.alpha + hi.alpha)
        };
        let cur = probe(step, &mut evals)?;
        if !armijo(&cur) || cur.value > lo.value + noise || (!approx && cur.value >= lo.value) {
            hi = cur;
        } else {
            if curvature(&cur) {
                return Ok(LineSearchOutcome {
                    point: Some(cur),
                    wolfe: true,
                    evals,
                });
            }
            if cur.slope * (hi.alpha - lo.alpha) >= 0.0 {
                hi = lo;
            }
            lo = cur;
        }
        if (hi.alpha - lo.alpha).abs() <= f64::EPSILON * lo.alpha.abs().max(hi.alpha.abs()) {
            break;
        }
    }
    Ok(LineSearchOutcome {
        point: (lo.alpha > 0.0).then_some(lo),
        wolfe: false,
        evals,
    })
}

/// `aᵀb`.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    type Eval = Box<dyn FnMut(&[f64], &mut [f64]) -> Result<f64, ()>>;

    fn rosenbrock() -> Eval {
        Box::new(|x: &[f64], g: &mut [f64]| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            Ok((1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2))
        })
    }

    fn check_wolfe(mut f: Eval, x: &[f64], dir: Option<Vec<f64>>, alpha0: f64, c2: f64) {
        let mut g0 = vec![0.0; x.len()];
        let f0 = f(x, &mut g0).unwrap();
        let dir = dir.unwrap_or_else(|| g0.iter().map(|g| -g).collect());
        let params = WolfeParams {
            c2,
            ..Default::default()
        };
        let out = strong_wolfe(&mut *f, x, f0, &g0, &dir, alpha0, &params).unwrap();
        assert!(out.wolfe, "no Wolfe step from {x:?}");
        let p = out.point.unwrap();
        let slope0 = dot(&g0, &dir);
        // recompute at the accepted step, independently of the search's bookkeeping
        let xa: Vec<f64> = x.iter().zip(&dir).map(|(a, d)| a + p.alpha * d).collect();
        let mut ga = vec![0.0; x.len()];
        let fa = f(&xa, &mut ga).unwrap();
        assert_eq!(fa, p.value);
        assert!(
            fa <= f0 + params.c1 * p.alpha * slope0,
            "Armijo at {}",
            p.alpha
        );
        assert!(
            dot(&ga, &dir).abs() <= c2 * slope0.abs(),
            "curvature at {}",
            p.alpha
        );
        assert!(p.alpha > 0.0);
    }

    #[test]
    fn accepted_steps_satisfy_both_strong_wolfe_conditions() {
        // steepest descent on Rosenbrock: the unit step overshoots by far (zoom), a tiny
        // first step undershoots (bracketing by doubling)
        for &x in &[[-1.2, 1.0], [0.0, 0.0], [2.0, 2.0]] {
            for &alpha0 in &[1.0, 1e-4, 1e-2] {
                for &c2 in &[0.9, 0.1] {
                    check_wolfe(rosenbrock(), &x, None, alpha0, c2);
                }
            }
        }
        // a 1-D quartic with a far minimum
        let quartic: Eval = Box::new(|x: &[f64], g: &mut [f64]| {
            g[0] = 4.0 * (x[0] - 3.0).powi(3);
            Ok((x[0] - 3.0).powi(4))
        });
        check_wolfe(quartic, &[0.0], Some(vec![1.0]), 0.01, 0.5);
    }

    #[test]
    fn blow_ups_are_stepped_back_from() {
        // f = x² but NaN below x = -1.5: from 2 along -1 the first trial step (10) blows up
        let f: Eval = Box::new(|x: &[f64], g: &mut [f64]| {
            g[0] = 2.0 * x[0];
            Ok(if x[0] < -1.5 { f64::NAN } else { x[0] * x[0] })
        });
        check_wolfe(f, &[2.0], Some(vec![-1.0]), 10.0, 0.9);
    }

    #[test]
    fn cubic_step_is_exact_on_a_quadratic() {
        // φ(α) = (α - 0.3)², φ' = 2(α - 0.3)
        let p = |a: f64| LinePoint {
            alpha: a,
            value: (a - 0.3) * (a - 0.3),
            slope: 2.0 * (a - 0.3),
            grad: vec![],
        };
        assert!((cubic_step(&p(0.0), &p(1.0)) - 0.3).abs() < 1e-14);
        assert!((cubic_step(&p(1.0), &p(0.0)) - 0.3).abs() < 1e-14);
    }
}
