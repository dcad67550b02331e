//! RateCell's unit tests: hand-derived values, every method's order, every activation.

use super::*;
use crate::core::workspace::MIN_ELEMENTS_PER_THREAD;

/// A cell with every hyper-parameter given (names as the C ABI takes them).
#[allow(clippy::too_many_arguments)]
fn cell<T: Real>(
    n: usize,
    b: usize,
    tau: f64,
    prior: &str,
    leak: f64,
    act: &str,
    integ: &str,
    thr: (&str, f64),
    scales: (f64, f64),
    stateful: bool,
) -> Cell<T> {
    rate_cell::<T>(
        "r",
        n,
        b,
        tau,
        Some(prior),
        leak,
        Some(act),
        scales.0,
        Some(thr.0),
        thr.1,
        Some(integ),
        scales.1,
        stateful,
        None,
    )
    .unwrap()
}

/// An identity cell, no threshold, scales 1.
fn plain(n: usize, tau: f64, prior: &str, leak: f64, integ: &str) -> Cell<f64> {
    cell(
        n,
        1,
        tau,
        prior,
        leak,
        "identity",
        integ,
        ("none", 0.0),
        (1.0, 1.0),
        true,
    )
}

fn f64s<T: Real>(v: &[T]) -> Vec<f64> {
    v.iter().map(|x| x.to_f64()).collect()
}

fn close(got: &[f64], want: &[f64], rtol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = (g.is_nan() && w.is_nan()) || g == w || (g - w).abs() <= rtol * w.abs();
        assert!(ok, "{what}[{i}]: {g:e}, want {w:e}");
    }
}

#[test]
fn ngc_learns_own_test() {
    // test_RateCell: 1 unit, tau 50, identity, euler, j = 1 for ten steps of dt 1.
    let mut c = cell::<f32>(
        1,
        1,
        50.0,
        "gaussian",
        0.0,
        "identity",
        "euler",
        ("none", 0.0),
        (1.0, 1.0),
        true,
    );
    let r = 1.0f32 / 50.0;
    let mut want = 0.0f32;
    for k in 1..=10 {
        c.set("j", &[1.0]).unwrap();
        c.advance(1.0).unwrap();
        want += r;
        assert_eq!(c.get("z").unwrap(), &[want]);
        assert_eq!(c.get("zF").unwrap(), &[want]);
        assert!((want - 0.02 * k as f32).abs() < 1e-6);
    }
    // 1.0f / (float)tau, not the double's quotient rounded.
    let mut c = cell::<f32>(
        1,
        1,
        0.010049995,
        "gaussian",
        0.0,
        "identity",
        "euler",
        ("none", 0.0),
        (1.0, 1.0),
        true,
    );
    c.set("j", &[1.0]).unwrap();
    c.advance(1.0).unwrap();
    assert_eq!(c.get("z").unwrap(), &[99.50253f32]);
}

#[test]
fn every_prior_one_euler_step_by_hand() {
    // tau 0.5 (r = 2), gamma 0.5, dt 0.125, j = 1, j_td = 0.25: z1 = z + (u - gamma leak(z)) / 4.
    let step = |prior: &str, z: &[f64]| {
        let mut c = plain(z.len(), 0.5, prior, 0.5, "euler");
        c.set("z", z).unwrap();
        c.set("j", &vec![1.0; z.len()]).unwrap();
        c.set("j_td", &vec![0.25; z.len()]).unwrap();
        c.advance(0.125).unwrap();
        c.get("z").unwrap().to_vec()
    };
    assert_eq!(step("gaussian", &[0.5, -1.0]), [0.75, -0.5625]);
    // sign: 1, -1, 0.
    assert_eq!(
        step("laplacian", &[0.5, -0.5, 0.0]),
        [0.6875, -0.0625, 0.3125]
    );
    // 2z / (1 + z^2): 1 at z = 1, -1 at -1, 0 at 0.
    assert_eq!(step("cauchy", &[1.0, -1.0, 0.0]), [1.1875, -0.5625, 0.3125]);
    // 2 z exp(-z^2): 2/e at z = 1.
    let e = step("exp", &[1.0, 0.0]);
    let want = 1.0 + (1.25 - 0.5 * 2.0 / std::f64::consts::E) * 0.25;
    close(&e, &[want, 0.3125], 1e-15, "exp prior");
}

/// `z1` after one step of `integ` on `f`, written from the method's tableau.
fn tableau(integ: &str, f: &dyn Fn(f64) -> f64, z: f64, h: f64) -> f64 {
    let k1 = f(z);
    match integ {
        "euler" => z + h * k1,
        "midpoint" => z + h * f(z + h / 2.0 * k1),
        "heun" => z + h / 2.0 * (k1 + f(z + h * k1)),
        "ralston" => z + h * (k1 / 3.0 + 2.0 / 3.0 * f(z + 0.75 * h * k1)),
        "rk4" => {
            let k2 = f(z + h / 2.0 * k1);
            let k3 = f(z + h / 2.0 * k2);
            let k4 = f(z + h * k3);
            z + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        }
        _ => unreachable!(),
    }
}

const METHODS: [&str; 5] = ["euler", "midpoint", "heun", "ralston", "rk4"];

#[test]
fn every_integrator_one_step_by_hand() {
    // Linear: f(z) = (1.25 - 0.5 z) * 2 from z = 0.5, h = 0.25 (k1 = 2). Every
    // second-order method gives z + h k1 (1 - h/2) = 0.9375 on a linear ODE.
    let want = [1.0, 0.9375, 0.9375, 0.9375, 0.9423828125];
    for (integ, want) in METHODS.iter().zip(want) {
        let mut c = plain(1, 0.5, "gaussian", 0.5, integ);
        c.set("z", &[0.5]).unwrap();
        c.set("j", &[1.25]).unwrap();
        c.advance(0.25).unwrap();
        close(c.get("z").unwrap(), &[want], 1e-15, integ);
    }
    // Nonlinear (Cauchy prior): the second-order methods differ, each as its tableau.
    let (gamma, u, tau, h) = (1.5, 0.3, 2.0, 0.7);
    let f = |z: f64| (-(2.0 * z / (1.0 + z * z)) * gamma + u) / tau;
    let z0 = [-1.3, -0.2, 0.4, 2.5];
    let mut seen = Vec::new();
    for integ in METHODS {
        let mut c = plain(4, tau, "cauchy", gamma, integ);
        c.set("z", &z0).unwrap();
        c.set("j", &[u; 4]).unwrap();
        c.advance(h).unwrap();
        let want: Vec<f64> = z0.iter().map(|&z| tableau(integ, &f, z, h)).collect();
        close(c.get("z").unwrap(), &want, 1e-14, integ);
        seen.push(c.get("z").unwrap()[0]);
    }
    for i in 0..seen.len() {
        for k in i + 1..seen.len() {
            assert!(
                (seen[i] - seen[k]).abs() > 1e-6,
                "{} and {} agree",
                METHODS[i],
                METHODS[k]
            );
        }
    }
}

#[test]
fn each_integrator_converges_at_its_order() {
    // dz/dt = (u - gamma 2z exp(-z^2)) / tau from t = 0 to 2, against a fine RK4 run.
    let (gamma, u, tau, t_end) = (1.5, 0.3, 1.0, 2.0);
    let z0 = [-1.5, -0.4, 0.3, 1.2];
    let run = |integ: &str, steps: usize| -> Vec<f64> {
        let mut c = plain(4, tau, "exp", gamma, integ);
        c.set("z", &z0).unwrap();
        c.set("j", &[u; 4]).unwrap();
        for _ in 0..steps {
            c.advance(t_end / steps as f64).unwrap();
        }
        c.get("z").unwrap().to_vec()
    };
    let exact = run("rk4", 4096);
    let err = |v: Vec<f64>| {
        v.iter()
            .zip(&exact)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    };
    for (integ, order) in [
        ("euler", 1),
        ("midpoint", 2),
        ("heun", 2),
        ("ralston", 2),
        ("rk4", 4),
    ] {
        let (e1, e2) = (err(run(integ, 20)), err(run(integ, 40)));
        let ratio = e1 / e2;
        let want = f64::from(1u32 << order);
        assert!(
            (ratio / want - 1.0).abs() < 0.15,
            "{integ}: error {e1:e} at dt {}, {e2:e} at half: ratio {ratio}, want ~{want}",
            t_end / 20.0
        );
    }
}

#[test]
fn soft_threshold_shrinks_after_the_step() {
    // Each z moves by +0.25 (f = 2, dt 0.125), then shrinks by lambda 0.5.
    let mut c = cell::<f64>(
        4,
        1,
        0.5,
        "gaussian",
        0.0,
        "identity",
        "euler",
        ("soft_threshold", 0.5),
        (1.0, 1.0),
        true,
    );
    c.set("z", &[0.5, -1.0, 0.0, -0.5]).unwrap();
    c.set("j", &[1.0; 4]).unwrap();
    c.advance(0.125).unwrap();
    let z = c.get("z").unwrap();
    assert_eq!(z, &[0.25, -0.25, 0.0, 0.0]);
    assert!(z[2].is_sign_positive() && z[3].is_sign_positive());
    assert_eq!(c.get("zF").unwrap(), z);
}

#[test]
fn stateless_cells_add_their_inputs() {
    for (tau, stateful) in [(10.0, false), (0.0, true), (-1.0, true)] {
        let mut c = cell::<f64>(
            3,
            1,
            tau,
            "cauchy",
            0.7,
            "tanh",
            "rk4",
            ("soft_threshold", 9.0),
            (1.5, 3.0),
            stateful,
        );
        c.set("z", &[5.0, 5.0, 5.0]).unwrap();
        c.set("j", &[0.5, -1.0, 2.0]).unwrap();
        c.set("j_td", &[0.25, 0.5, -4.0]).unwrap();
        c.advance(1.0).unwrap();
        assert_eq!(c.get("z").unwrap(), &[0.75, -0.5, -2.0]);
        let want: Vec<f64> = [0.75f64, -0.5, -2.0]
            .iter()
            .map(|z| z.tanh() * 1.5)
            .collect();
        close(c.get("zF").unwrap(), &want, 1e-15, "zF");
        assert_eq!(c.get("j").unwrap(), &[0.5, -1.0, 2.0], "j is not modulated");
    }
    // A NaN tau_m is stateful (as in ngc-learn: NaN <= 0 is false): r = NaN.
    let mut c = plain(1, f64::NAN, "gaussian", 0.0, "euler");
    c.set("j", &[1.0]).unwrap();
    c.advance(1.0).unwrap();
    assert!(c.get("z").unwrap()[0].is_nan());
}

#[test]
fn j_is_written_back_and_compounds() {
    // tanh, resist 1.5: each step j = j * (1 - tanh^2(z)) * 1.5 at the old z; the
    // leak is not modulated, j_td neither.
    let (z0, j0, jt) = ([0.3, -1.2], [2.0, -0.5], [0.1, 0.2]);
    let mut c = cell::<f64>(
        2,
        1,
        4.0,
        "gaussian",
        0.25,
        "tanh",
        "euler",
        ("none", 0.0),
        (1.0, 1.5),
        true,
    );
    c.set("z", &z0).unwrap();
    c.set("j", &j0).unwrap();
    c.set("j_td", &jt).unwrap();
    let (mut z, mut j) = (z0, j0);
    for step in 0..3 {
        c.advance(0.5).unwrap();
        for i in 0..2 {
            let t = z[i].tanh();
            j[i] = j[i] * (1.0 - t * t) * 1.5;
            z[i] += 0.5 * (-0.25 * z[i] + j[i] + jt[i]) / 4.0;
        }
        close(
            c.get("j").unwrap(),
            &j,
            1e-14,
            &format!("j after step {step}"),
        );
        close(
            c.get("z").unwrap(),
            &z,
            1e-14,
            &format!("z after step {step}"),
        );
        assert_eq!(c.get("j_td").unwrap(), &jt);
    }
    let zf: Vec<f64> = z.iter().map(|v| v.tanh()).collect();
    close(c.get("zF").unwrap(), &zf, 1e-14, "zF");
}

#[test]
fn reset_gives_zeros_and_keeps_the_shape() {
    let mut c = rate_cell::<f32>(
        "r",
        24,
        2,
        10.0,
        None,
        0.1,
        Some("tanh"),
        1.0,
        None,
        0.0,
        Some("midpoint"),
        1.0,
        true,
        Some([3, 4, 2]),
    )
    .unwrap();
    c.set("z", &[1.0; 48]).unwrap();
    c.set("j", &[1.0; 48]).unwrap();
    c.advance(1.0).unwrap();
    assert!(c.get("zF").unwrap()[0] > 0.7);
    c.reset().unwrap();
    for name in ["j", "j_td", "z", "zF"] {
        assert_eq!(c.get(name).unwrap(), &[0.0; 48], "{name}");
        assert_eq!(c.view(name).unwrap().shape(), &[2, 3, 4, 2]);
    }
    c.batched_reset(3).unwrap();
    assert_eq!(c.view("z").unwrap().shape(), &[3, 3, 4, 2]);
}

#[test]
fn unknown_and_unsupported_choices_are_refused_with_the_accepted_names() {
    let make = |prior: &str, act: &str, thr: &str, integ: &str, tau: f64, n: usize, shape| {
        rate_cell::<f32>(
            "r",
            n,
            2,
            tau,
            Some(prior),
            0.1,
            Some(act),
            1.0,
            Some(thr),
            0.1,
            Some(integ),
            1.0,
            true,
            shape,
        )
    };
    let msg = |r: Result<Cell<f32>, CellError>| match r {
        Err(CellError::InvalidArgument(m)) => m,
        other => panic!("not refused: {other:?}"),
    };
    let m = msg(make("gauss", "tanh", "none", "euler", 1.0, 8, None));
    assert!(
        m.contains("prior \"gauss\"") && m.contains("\"laplacian\"") && m.contains("\"exp\""),
        "{m}"
    );
    let m = msg(make("gaussian", "relu7", "none", "euler", 1.0, 8, None));
    assert!(m.contains("\"relu6\"") && m.contains("\"softmax\""), "{m}");
    let m = msg(make(
        "gaussian",
        "my_heaviside",
        "none",
        "euler",
        1.0,
        8,
        None,
    ));
    assert!(m.contains("write \"heaviside\""), "{m}");
    let m = msg(make("gaussian", "tanh", "hard", "euler", 1.0, 8, None));
    assert!(m.contains("\"soft_threshold\""), "{m}");
    let m = msg(make(
        "gaussian",
        "tanh",
        "cauchy_threshold",
        "euler",
        1.0,
        8,
        None,
    ));
    assert!(
        m.contains("not offered") && m.contains("\"soft_threshold\""),
        "{m}"
    );
    let m = msg(make("gaussian", "tanh", "none", "rk3", 1.0, 8, None));
    assert!(
        m.contains("\"ralston\"") && m.contains("\"rk2_heun\""),
        "{m}"
    );
    let m = msg(make("gaussian", "softmax", "none", "euler", 1.0, 8, None));
    assert!(m.contains("stateless"), "{m}");
    let m = msg(make("gaussian", "bkwta", "none", "euler", 1.0, 4, None));
    assert!(m.contains("n_units >= 5"), "{m}");
    let m = msg(make(
        "gaussian",
        "bkwta",
        "none",
        "euler",
        1.0,
        60,
        Some([2, 5, 6]),
    ));
    assert!(m.contains("2-D"), "{m}");
    // Accepted: stateless softmax, bkwta on 5 units, every alias.
    make("gaussian", "softmax", "none", "euler", 0.0, 3, None).unwrap();
    make("gaussian", "bkwta", "none", "euler", 1.0, 5, None).unwrap();
    for integ in ["rk1", "rk2", "rk2_heun", "rk2_ralston"] {
        make("gaussian", "tanh", "none", integ, 1.0, 3, None).unwrap();
    }
    // NULL names are ngc-learn's defaults.
    let c = rate_cell::<f64>(
        "r", 2, 1, 1.0, None, 0.0, None, 1.0, None, 0.0, None, 1.0, true, None,
    )
    .unwrap();
    let meta = c.metadata_json();
    for part in [
        "\"prior\":{\"value\":\"gaussian\"",
        "\"act_fx\":{\"value\":\"identity\"",
        "\"threshold\":{\"value\":\"none\"",
        "\"integration_type\":{\"value\":\"euler\"",
        "\"is_stateful\":{\"value\":true",
        "\"tau_m\":{\"value\":1.0",
    ] {
        assert!(meta.contains(part), "{part} not in {meta}");
    }
}

/// `(fx, fx')` at `x`, from ngc-learn's formulas with the standard library.
fn reference(act: &str, x: f64) -> (f64, f64) {
    let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
    let swish = |b: f64| {
        let s = sig(b * x);
        (x * s, s + b * x * s * (1.0 - s))
    };
    let step = |c: bool| f64::from(u8::from(c));
    match act {
        "identity" => (x, x * 0.0 + 1.0),
        "tanh" => (x.tanh(), 1.0 - x.tanh() * x.tanh()),
        "sigmoid" => (sig(x), sig(x) * (1.0 - sig(x))),
        "relu" => (x.max(0.0), step(x >= 0.0)),
        "lrelu" => (
            if x >= 0.0 { x } else { 0.01 * x },
            if x >= 0.0 { 1.0 } else { 0.01f32 as f64 },
        ),
        "relu6" => (x.clamp(0.0, 6.0), step((0.0..=6.0).contains(&x))),
        "elu" => (
            if x >= 0.0 { x } else { x.exp() - 1.0 },
            if x >= 0.0 { 1.0 } else { x.exp() },
        ),
        "silu" => swish(1.0),
        "gelu" => swish(1.702),
        "telu" => {
            let th = x.exp().tanh();
            (x * th, th + x * x.exp() * (1.0 - th * th))
        }
        "softplus" => ((1.0 + x.exp()).ln(), sig(x)),
        "unit_threshold" => (step(x >= 1.0), 1.0),
        "heaviside" => (step(x >= 0.0), 1.0),
        "sine" => ((30.0 * x).sin(), 30.0 * (30.0 * x).cos()),
        _ => unreachable!(),
    }
}

#[test]
fn every_elementwise_activation_and_derivative_as_ngc_learn() {
    let xs = [
        -7.5, -3.0, -1.0, -0.3, -1e-3, 0.0, 1e-3, 0.4, 1.0, 2.5, 6.0, 9.0,
    ];
    for &(name, act) in &Act::NAMES {
        if !act.is_elementwise() {
            continue;
        }
        // fx: stateless, output_scale 1.
        let mut c = cell::<f64>(
            xs.len(),
            1,
            0.0,
            "gaussian",
            0.0,
            name,
            "euler",
            ("none", 0.0),
            (1.0, 1.0),
            false,
        );
        c.set("j", &xs).unwrap();
        c.advance(1.0).unwrap();
        let want: Vec<f64> = xs.iter().map(|&x| reference(name, x).0).collect();
        close(c.get("zF").unwrap(), &want, 1e-13, name);
        // fx': the modulated j of a stateful step from z = x with j = 1.
        let mut c = cell::<f64>(
            xs.len(),
            1,
            1.0,
            "gaussian",
            0.0,
            name,
            "euler",
            ("none", 0.0),
            (1.0, 1.0),
            true,
        );
        c.set("z", &xs).unwrap();
        c.set("j", &[1.0; 12]).unwrap();
        c.advance(1.0).unwrap();
        // Absolute: 1 - tanh^2 near saturation amplifies tanh's last-bit differences.
        for (i, (&g, &x)) in c.get("j").unwrap().iter().zip(&xs).enumerate() {
            let w = reference(name, x).1;
            assert!(
                (g - w).abs() <= 1e-13 * w.abs().max(1.0),
                "{name}'[{i}]: {g:e}, want {w:e}"
            );
        }
    }
}

#[test]
fn activation_edge_values_follow_xla() {
    let fx = |act: &str, xs: &[f32]| {
        let mut c = cell::<f32>(
            xs.len(),
            1,
            0.0,
            "gaussian",
            0.0,
            act,
            "euler",
            ("none", 0.0),
            (1.0, 1.0),
            false,
        );
        c.set("j", xs).unwrap();
        c.advance(1.0).unwrap();
        c.get("zF").unwrap().to_vec()
    };
    let dfx = |act: &str, xs: &[f32]| {
        let mut c = cell::<f32>(
            xs.len(),
            1,
            1.0,
            "gaussian",
            0.0,
            act,
            "euler",
            ("none", 0.0),
            (1.0, 1.0),
            true,
        );
        c.set("z", xs).unwrap();
        c.set("j", &vec![1.0; xs.len()]).unwrap();
        c.advance(1.0).unwrap();
        c.get("j").unwrap().to_vec()
    };
    let (inf, nan) = (f32::INFINITY, f32::NAN);
    // elu: exp(95) overflows, inf * 0 is NaN in fx and fx'; elu(-inf) = -1.
    let e = fx("elu", &[95.0, -inf, -1.0]);
    assert!(
        e[0].is_nan() && e[1] == -1.0 && e[2] == (-1.0f32).exp() - 1.0,
        "{e:?}"
    );
    assert!(dfx("elu", &[95.0])[0].is_nan());
    // relu: max(-0, 0) = 0, NaN propagates; its derivative is 1 at 0, 0 at NaN.
    let r = fx("relu", &[-0.0, nan]);
    assert!(r[0] == 0.0 && r[0].is_sign_positive() && r[1].is_nan());
    assert_eq!(dfx("relu", &[0.0, nan, -0.0]), [1.0, 0.0, 1.0]);
    // identity's derivative x * 0 + 1 is NaN at infinities; tanh(±inf) = ±1.
    assert!(dfx("identity", &[inf])[0].is_nan());
    assert_eq!(fx("tanh", &[inf, -inf, 25.0]), [1.0, -1.0, 1.0]);
    // sine ignores omega_0: sin(30 x).
    assert_eq!(fx("sine", &[0.05])[0], (30.0f32 * 0.05).sin());
    // softplus: NaN stays NaN, large x is x, very negative is ~0.
    let s = fx("softplus", &[nan, 100.0, -100.0]);
    assert!(
        s[0].is_nan() && s[1] == 100.0 && s[2].abs() < 1e-37,
        "{s:?}"
    );
}

#[test]
fn binary_activations_scale_by_a_float32_output_scale() {
    // ngc-learn's heaviside/unit_threshold/bkwta masks are float32 even under
    // x64, so zF = mask * float32(output_scale).
    let mut c = cell::<f64>(
        5,
        1,
        0.0,
        "gaussian",
        0.0,
        "heaviside",
        "euler",
        ("none", 0.0),
        (0.1, 1.0),
        false,
    );
    c.set("j", &[-1.0, 0.0, 1.0, -0.0, 2.0]).unwrap();
    c.advance(1.0).unwrap();
    let o = 0.1f32 as f64;
    assert_eq!(c.get("zF").unwrap(), &[0.0, o, o, o, o]);
    let mut c = cell::<f64>(
        2,
        1,
        0.0,
        "gaussian",
        0.0,
        "sigmoid",
        "euler",
        ("none", 0.0),
        (0.1, 1.0),
        false,
    );
    c.advance(1.0).unwrap();
    assert_eq!(c.get("zF").unwrap(), &[0.5 * 0.1; 2]);
}

#[test]
fn bkwta_keeps_the_five_largest_of_each_row() {
    let rows = [
        [0.5, -1.0, 2.0, 0.25, 1.5, -0.5, 3.0],
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
        [1.0, f64::NAN, 3.0, 2.0, -1.0, 5.0, 0.0],
    ];
    let z: Vec<f64> = rows.concat();
    let want = [
        [1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0],
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
        [0.0; 7],
    ]
    .concat();
    // Stateless: zF = bkwta(j + j_td) * 2.
    let mut c = cell::<f64>(
        7,
        3,
        0.0,
        "gaussian",
        0.0,
        "bkwta",
        "euler",
        ("none", 0.0),
        (2.0, 1.0),
        false,
    );
    c.set("j", &z).unwrap();
    c.advance(1.0).unwrap();
    let twice: Vec<f64> = want.iter().map(|w| w * 2.0).collect();
    assert_eq!(c.get("zF").unwrap(), twice.as_slice());
    // Stateful: j is modulated by bkwta(z) at the old z (its own "derivative").
    let mut c = cell::<f64>(
        7,
        3,
        1.0,
        "gaussian",
        0.0,
        "bkwta",
        "euler",
        ("none", 0.0),
        (1.0, 1.0),
        true,
    );
    c.set("z", &z).unwrap();
    c.set("j", &[3.0; 21]).unwrap();
    c.advance(0.5).unwrap();
    let jw: Vec<f64> = want.iter().map(|w| w * 3.0).collect();
    assert_eq!(c.get("j").unwrap(), jw.as_slice());
    let zw: Vec<f64> = z.iter().zip(&jw).map(|(z, j)| z + 0.5 * j).collect();
    close(c.get("z").unwrap(), &zw, 0.0, "z");
    assert_eq!(
        &c.get("zF").unwrap()[..7],
        &[1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0]
    );
}

#[test]
fn softmax_normalises_axis_1() {
    let mut c = cell::<f64>(
        3,
        2,
        0.0,
        "gaussian",
        0.0,
        "softmax",
        "euler",
        ("none", 0.0),
        (1.0, 1.0),
        false,
    );
    c.set("j", &[1.0, 2.0, 3.0, -1000.0, 0.0, 1000.0]).unwrap();
    c.advance(1.0).unwrap();
    let zf = c.get("zF").unwrap();
    let e = [(-2.0f64).exp(), (-1.0f64).exp(), 1.0];
    let s: f64 = e.iter().sum();
    close(&zf[..3], &[e[0] / s, e[1] / s, e[2] / s], 1e-15, "row 0");
    assert_eq!(&zf[3..], &[0.0, 0.0, 1.0]);
    // 4-D (batch, H, W, C): over H, as jnp.max(x, axis=1).
    let mut c = rate_cell::<f64>(
        "r",
        12,
        1,
        0.0,
        None,
        0.0,
        Some("softmax"),
        2.0,
        None,
        0.0,
        None,
        1.0,
        false,
        Some([3, 2, 2]),
    )
    .unwrap();
    let x: Vec<f64> = (0..12).map(|i| (i as f64 * 0.7).sin()).collect();
    c.set("j", &x).unwrap();
    c.advance(1.0).unwrap();
    let zf = c.get("zF").unwrap();
    for k in 0..4 {
        let s: f64 = (0..3).map(|h| zf[h * 4 + k]).sum();
        assert!((s - 2.0).abs() < 1e-14, "column {k}: {s}");
    }
}

#[test]
fn any_thread_count_gives_the_same_bits() {
    let n = MIN_ELEMENTS_PER_THREAD + 1001;
    let x: Vec<f32> = (0..2 * n)
        .map(|i| ((i as f32) * 0.37).sin() * 3.0)
        .collect();
    let y: Vec<f32> = (0..2 * n).map(|i| ((i as f32) * 0.11).cos()).collect();
    let run = |threads: usize| {
        let mut c = cell::<f32>(
            n,
            2,
            3.0,
            "cauchy",
            0.2,
            "tanh",
            "rk4",
            ("soft_threshold", 0.01),
            (1.5, 0.8),
            true,
        );
        c.set_threads(threads).unwrap();
        c.set("z", &x).unwrap();
        c.set("j", &y).unwrap();
        c.set("j_td", &x).unwrap();
        c.advance(0.5).unwrap();
        c.advance(0.5).unwrap();
        ["j", "z", "zF"].map(|k| f64s(c.get(k).unwrap()))
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
}
