//! Generalization bounds and complexity measures for sparse Mixture-of-Experts models.
//!
//! Pure functions with typed inputs; every formula, its constants and its confidence mark come
//! from the project's THEORY.md, whose section each doc comment cites. Bounds return their
//! value together with every named term (all `serde::Serialize`, so a run record can embed
//! them) and a [`Validity`] label. Where THEORY.md flags a doubt, the safe (larger, valid) form
//! is implemented and the doc comment says so.
//!
//! - **Routing log-counts** (§1.6 Step 3, §2): [`natarajan_log_count`] (ln C(T,k) exact via
//!   [`log_binomial`] and its k(1 + ln(T/k)) upper form), [`arrangement_log_count`] for linear
//!   routers, [`linear_router_natarajan_dim`] (d_N = (d+1)(T-1) with a bias) and
//!   [`mlp_router_natarajan_shape`] (parameter-count form, shape only).
//! - **Expert complexity** from trained weights `[out, in]` and routed inputs `[n, d]` (§3):
//!   [`golowich_complexity`], [`bft_complexity`] (safe 4/n first term), [`neyshabur_complexity`]
//!   (the larger of §3.6's two constants), [`activation_lipschitz_product`] for PReLU slopes;
//!   linear experts: [`linear_rademacher_closed_form`], [`linear_rademacher_exact`] and
//!   [`linear_rademacher_monte_carlo`] with its confidence interval.
//! - **Bounds** as pure functions: [`zhao_restated`] (§1.3, MELD's restatement),
//!   [`zhao_paper`] (§1.4–1.5, Theorem 1 with an empirical complexity and the empirical-form
//!   confidence term), [`d1_bound`] at the learned pattern (heuristic) and over all patterns
//!   (§1.6 Step 4), [`d1_a2_bound`] (§1.6 Remark, softmax-weighted gates),
//!   [`kratsios_vc_shape`] (§4, constant 1).
//! - **PAC-Bayes** (§5, Dziugaite & Roy 2017): [`kl_bernoulli`] and its bisection inverse
//!   [`kl_inverse_upper`], [`gaussian_kl`] of a diagonal Gaussian posterior from an isotropic
//!   prior, the prior-variance grid [`PriorGrid`] with its union-bound price, [`b_re`] and the
//!   final [`certificate`]; [`binomial_tail_bound`], the test-set bound beside it; the whole
//!   pipeline for a trained model — posterior optimisation through a smooth routing
//!   surrogate, Monte Carlo over re-routed sampled networks — in [`certify`]
//!   ([`certify::certify`], [`certify::CertifyConfig`], [`certify::CertificateRecord`]).
//! - **Labels** ([`Validity`], §1.8 item 2): `valid`, `valid_a2` ("valid (A2 remark)"),
//!   `restated`, `heuristic`, `shape`, `outside_assumptions`; the gate's case A1/A2 is
//!   [`GateWeights`] ([`gate_weights`]). Norm budgets read off the trained weights are rounded
//!   up to the fixed grid {2^i : i = −30..30} ([`round_up_to_grid`]) and paid for with
//!   [`budget_log_count`] nats; a margin chosen from the data adds
//!   [`BoundSettings::margin_log_count`].
//! - **The bound interface**: a [`Bound`] has a [`Bound::name`] and evaluates [`BoundInputs`]
//!   (m, k, T, d, δ, C = 1/γ, the [`RouterComplexity`], the per-expert [`ExpertStat`]s in
//!   [`ExpertGroup`]s of equal experts, the router logits' [`ScaleGroup`]s, the gate's case,
//!   R̂_S(H) for Golowich and BFT experts, Σ‖x‖² and max ‖x‖, the experts' depth and width) to
//!   a [`BoundValue`] (name, [`Validity`], total, named terms, note, [`GapLoss`]). The registry
//!   [`bounds`] lists every bound in report order: [`ZhaoPaper`] (`zhao`), [`ZhaoGolowich`]
//!   (`zhao_golowich`), [`D1LearnedPattern`] (`d1_learned`), [`D1WorstCase`] (`d1_worst`),
//!   [`D1A2Remark`] (`d1_a2`), [`KratsiosVcShape`] (`kratsios`); [`BoundInputs::evaluate`]
//!   runs it.
//! - **For a trained model**: [`bound_report`] measures any [`smoe_model::Model`] with top-k
//!   routing (every expert on the training inputs it received), builds its [`BoundInputs`]
//!   and evaluates the registry into a [`BoundReport`], whose [`BoundReport::scalars`] names
//!   every number once (`zhao.total`, `d1_worst.expert_term`, `router.d_n`, ...).
//! - **What-if**: [`BoundInputs::what_if`] builds the idealised inputs of `smoe bound` from a
//!   [`WhatIf`] (unit-norm inputs, balanced loads), evaluated by the same registry.
//! - **Parameter recovery** (§7.3): [`voronoi_loss`], the Voronoi loss D₁ between a fitted
//!   softmax-gated [`MixingMeasure`] and the teacher's, with the translation of `(β₀, β₁)`
//!   fixed by the reference component; [`voronoi_d1`] without the alignment;
//!   [`model_voronoi_loss`] for a model and a [`smoe_tasks::SoftmaxGatedTeacher`].
//! - **Rank statistics** (§6): [`kendall_tau`] and [`granulated_kendall`].
//! - Helpers: [`log_gamma`] (checked [`ln_gamma`]), [`spectral_norm`] (power iteration),
//!   [`frobenius_norm`], [`norm_2_1_rows`].
//!
//! # Adding a bound
//! Write a pure function with its typed inputs and result (as in `bounds.rs`), then a file in
//! `src/registry/` with a unit struct implementing [`Bound`] that reads [`BoundInputs`], calls
//! the function and names its terms (summands first), and add one line to [`bounds`]. The run
//! record, [`BoundReport::scalars`] and `smoe bound` then show it. A bound that needs a new
//! measurement adds a field to [`BoundInputs`], filled by [`bound_report`] and
//! [`BoundInputs::what_if`].
//!
//! Every function checks its inputs and returns a [`TheoryError`] instead of panicking (shape
//! errors as the workspace's one [`smoe_nn::ShapeError`], in [`TheoryError::Shape`]).
//!
//! # Example
//! The first worked example of THEORY.md §1.7 (d = 16, T = 8, k = 2, m = 10⁴, linear router
//! without bias, linear experts with B X = 1 and balanced load):
//! ```
//! use smoe_theory::{
//!     BoundInputs, D1Inputs, ExpertStat, Validity, WhatIf, ZhaoInputs, d1_bound, kendall_tau,
//!     linear_router_natarajan_dim, natarajan_log_count, zhao_restated,
//! };
//!
//! let (d, t, k, m) = (16, 8, 2, 10_000);
//! let d_n = linear_router_natarajan_dim(d, t, false)? as f64; // d (T - 1) = 112
//! let count = natarajan_log_count(d_n, m, t, k)?;
//! assert!((count.upper - 2100.62).abs() < 0.01);
//!
//! let zhao = zhao_restated(&ZhaoInputs {
//!     lipschitz: 1.0, rademacher: 1.0 / (m as f64).sqrt(), k, t, d_n, m, delta: 0.05,
//! })?;
//! assert!((zhao.total - 0.701).abs() < 1e-3);
//!
//! let load = k * m / t;
//! let experts = vec![
//!     ExpertStat { load, complexity: 1.0 / (load as f64).sqrt(), scale: 1.0, floor: 0.0 };
//!     t
//! ];
//! let d1 = d1_bound(&D1Inputs {
//!     k, t, m, delta: 0.05, lipschitz: 1.0, routing_log_count: count.upper,
//!     experts: &experts, sum_sq_norms: m as f64,
//! })?;
//! assert!((d1.worst_case.total - 0.729).abs() < 1e-3);
//!
//! // The same through the registry: `smoe bound`'s what-if inputs, every bound at once. The
//! // what-if gate is the uniform one (case A1) and every expert's budget A_j = 1 is a grid
//! // point, so `d1_worst` is valid; it pays T ln 61 nats for the T data-chosen budgets.
//! let inputs = BoundInputs::what_if(&WhatIf { router_bias: false, ..WhatIf::default() })?;
//! let values = inputs.evaluate()?;
//! let names: Vec<&str> = values.iter().map(|v| v.name.as_str()).collect();
//! assert_eq!(names, ["zhao", "zhao_golowich", "d1_learned", "d1_worst", "d1_a2", "kratsios"]);
//! let worst = &values[3];
//! assert_eq!(worst.validity, Validity::Valid);
//! assert_eq!(worst.term("expert_term"), Some(d1.worst_case.expert_term));
//! let price = 8.0 * 61f64.ln(); // 32.887 nats
//! assert!((worst.term("budget_log_count").unwrap() - price).abs() < 1e-12);
//! let confidence = 3.0 * (((2.0f64 / 0.05).ln() + price) / 2e4).sqrt(); // 0.1283
//! let want = d1.worst_case.total - d1.worst_case.confidence_term + confidence;
//! assert!((worst.total - want).abs() < 1e-12); // 0.817
//! // the A2 remark's form is proved for softmax gates too, but looser
//! assert_eq!(values[4].validity, Validity::ValidA2);
//! assert!(values[4].total > worst.total);
//!
//! // How well does a bound rank measured gaps?
//! assert_eq!(kendall_tau(&[0.1, 0.2, 0.3], &[0.01, 0.05, 0.04])?, 1.0 / 3.0);
//! # Ok::<(), smoe_theory::TheoryError>(())
//! ```

mod bounds;
mod budget_grid;
pub mod certify;
mod d1_a2;
mod error;
mod expert;
mod gate_case;
mod inputs;
mod interface;
mod kl;
mod linear;
mod measure;
mod norms;
mod pac_bayes;
mod rank;
mod registry;
mod report;
mod routing;
mod special;
mod voronoi;
mod zhao_paper;

pub use bounds::{
    D1Bound, D1Inputs, D1Report, ExpertGroup, ExpertStat, Validity, VcInputs, VcShapeBound,
    ZhaoBound, ZhaoInputs, d1_bound, kratsios_vc_shape, zhao_restated,
};
pub use budget_grid::{
    BUDGET_GRID_MAX_EXP, BUDGET_GRID_MIN_EXP, BUDGET_GRID_POINTS, GridBudget, budget_log_count,
    round_up_to_grid,
};
pub use d1_a2::{D1A2Bound, D1A2Inputs, ScaleGroup, d1_a2_bound};
pub use error::{Result, TheoryError};
pub use expert::{
    BftComplexity, BftInputs, NormComplexity, activation_lipschitz_product, bft_complexity,
    golowich_complexity, golowich_scale, neyshabur_complexity, neyshabur_scale,
};
pub use gate_case::{GateWeights, gate_outside_proofs, gate_weights};
pub use inputs::{BoundInputs, RouterComplexity, WhatIf};
pub use interface::{Bound, BoundValue, GapLoss};
pub use kl::{binomial_tail_bound, kl_bernoulli, kl_inverse_upper};
pub use linear::{
    EXACT_MAX_N, LinearClosedForm, LinearMonteCarlo, MAX_MC_DRAWS, linear_rademacher_closed_form,
    linear_rademacher_exact, linear_rademacher_monte_carlo,
};
pub use norms::{LayerWeights, frobenius_norm, norm_2_1_rows, spectral_norm, sum_sq_row_norms};
pub use pac_bayes::{Certificate, PriorGrid, b_re, certificate, gaussian_kl};
pub use rank::{
    AxisKendall, GranulatedKendall, GridRun, MissingCells, granulated_kendall, kendall_tau,
};
pub use registry::{
    D1A2Remark, D1LearnedPattern, D1WorstCase, KratsiosVcShape, ZhaoGolowich, ZhaoPaper, bounds,
};
pub use report::{BoundReport, BoundSettings, ExpertComplexity, bound_report};
pub use routing::{
    ArrangementLogCount, MlpRouterDim, NatarajanLogCount, arrangement_log_count,
    linear_router_natarajan_dim, low_rank_router_natarajan_dim, mlp_router_natarajan_shape,
    natarajan_log_count,
};
pub use smoe_nn::ln_gamma;
pub use special::{LGAMMA_MAX_N, log_binomial, log_binomial_upper, log_gamma};
pub use voronoi::{
    MixingMeasure, VoronoiLoss, VoronoiTerms, model_voronoi_loss, voronoi_d1, voronoi_loss,
};
pub use zhao_paper::{ZhaoPaperBound, ZhaoPaperInputs, zhao_paper};
