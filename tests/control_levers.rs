//! The levers on a running job, through the real `bot4` command: a replay paced at a
//! multiple of real time is paused with `bot4 control`, killed by the kill file and
//! paused again by SIGUSR2 while `bot4 status` watches, and a parameter change is
//! accepted (a bad one refused); every lever reaches the control
//! table with its source, the job ends flat and latched in Emergency, and
//! `bot4 audit verify` finds its trail intact.

use std::path::Path;
use std::time::{Duration, Instant};

use bot4_schemas::{
    ControlCommand, ControlEvent, ControlSource, Decimal, Fill, Order, OrderAction,
};
use bot4_tests::{
    generate_market, market_config, registry_of, run_bot4, spawn_bot4, table, Finished, TEST_BAR,
};
use tempfile::TempDir;

const TIMEOUT: Duration = Duration::from_secs(120);

fn status(admin: &Path) -> serde_json::Value {
    let out = run_bot4(
        &[
            "status",
            "--json",
            "--admin-file",
            &admin.display().to_string(),
        ],
        TIMEOUT,
    );
    assert!(out.status.success(), "bot4 status: {}", out.describe());
    serde_json::from_str(&out.stdout).expect("bot4 status --json prints JSON")
}

fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn pause_kill_file_and_signal_move_a_running_job_and_are_audited() {
    let dir = TempDir::new().expect("a temporary folder");
    let input = dir.path().join("market");
    // Eight symbols for six hours; at 1 200× real time the replay takes 18 s. The
    // trail: four events, a parameter change and two mode changes (the Pause inside
    // Emergency changes nothing).
    generate_market(market_config(8, 6 * 3_600, 1, 4.0), &input);
    let (out, admin, kill) = (
        dir.path().join("out"),
        dir.path().join("admin.json"),
        dir.path().join("KILL"),
    );
    let path = |p: &Path| p.display().to_string();
    let job = spawn_bot4(&[
        "replay",
        "--input",
        &path(&input),
        "--out",
        &path(&out),
        "--workers",
        "2",
        "--bar",
        TEST_BAR,
        "--quiet",
        "--pace",
        "1200",
        "--admin",
        "127.0.0.1:0",
        "--admin-file",
        &path(&admin),
        "--kill-file",
        &path(&kill),
        // Under a loaded machine a reader 2 ms behind at 1 200× real time is 2.4 s of
        // market behind: the clock-skew trigger would pause first. Not what is tested.
        "--max-clock-skew",
        "0",
    ]);
    wait_for("the admin file", || admin.exists());
    wait_for("the job to run", || status(&admin)["state"] == "running");
    assert_eq!(status(&admin)["mode"], "normal");

    // A parameter change is accepted (and takes effect only after the cooldown); an
    // unknown parameter or a bad value is refused, and nothing reaches the job.
    let set = run_bot4(
        &[
            "control",
            "set",
            "safety.stale_after",
            "5m",
            "--reason",
            "slow feed",
            "--admin-file",
            &path(&admin),
        ],
        TIMEOUT,
    );
    assert!(set.status.success(), "{}", set.describe());
    assert!(
        set.stdout
            .starts_with("accepted: set safety.stale_after = 5m"),
        "{}",
        set.stdout
    );
    for (name, value, says) in [
        ("risk.leverage", "3", "unknown parameter"),
        ("orders.reduce_to", "2", "not a fraction"),
    ] {
        let refused = run_bot4(
            &["control", "set", name, value, "--admin-file", &path(&admin)],
            TIMEOUT,
        );
        assert!(
            !refused.status.success() && refused.stderr.contains(says),
            "{}",
            refused.describe()
        );
    }
    wait_for("the change's event", || {
        status(&admin)["control_events"] == 1
    });

    let paused = run_bot4(
        &[
            "control",
            "pause",
            "--reason",
            "ops check",
            "--admin-file",
            &path(&admin),
        ],
        TIMEOUT,
    );
    assert!(paused.status.success(), "{}", paused.describe());
    assert_eq!(paused.stdout.trim(), "accepted: pause");
    wait_for("the pause", || status(&admin)["mode"] == "pause");
    let s = status(&admin);
    assert_eq!(
        (&s["mode_source"], &s["mode_reason"]),
        (&"admin".into(), &"ops check".into())
    );

    std::fs::write(&kill, "drill\n").expect("the kill file");
    wait_for("the emergency", || status(&admin)["mode"] == "emergency");
    assert_eq!(status(&admin)["mode_source"], "kill_file");

    let signalled = std::process::Command::new("kill")
        .args(["-USR2", &job.pid().to_string()])
        .status()
        .expect("kill(1)");
    assert!(signalled.success());
    wait_for("the signal's event", || {
        status(&admin)["control_events"] == 4
    });
    assert_eq!(
        status(&admin)["mode"],
        "emergency",
        "latched: a Pause changes nothing"
    );

    let (finished, timed_out): (Finished, bool) = job.wait(TIMEOUT);
    assert!(
        !timed_out && finished.status.success(),
        "{}",
        finished.describe()
    );
    assert!(
        finished.stdout.contains("final mode emergency"),
        "{}",
        finished.stdout
    );
    assert!(!admin.exists(), "the admin file is removed at the end");

    let registry = registry_of(&input);
    let control: Vec<ControlEvent> = table(&out, &registry);
    let levers: Vec<(ControlCommand, ControlSource, &str)> = control
        .iter()
        .map(|e| (e.command, e.source, e.reason.as_str()))
        .collect();
    assert_eq!(
        levers,
        [
            (ControlCommand::Set, ControlSource::Admin, "slow feed"),
            (ControlCommand::Pause, ControlSource::Admin, "ops check"),
            (ControlCommand::Emergency, ControlSource::KillFile, "drill"),
            (ControlCommand::Pause, ControlSource::Signal, "SIGUSR2"),
        ]
    );
    let pause_at = control[1].ts;
    let orders: Vec<Order> = table(&out, &registry);
    let growing: Vec<&Order> = orders
        .iter()
        .filter(|o| o.action == OrderAction::New && o.ts >= pause_at && !o.reduces_exposure)
        .collect();
    assert!(growing.is_empty(), "after the pause: {growing:?}");
    let fills: Vec<Fill> = table(&out, &registry);
    let mut net = std::collections::BTreeMap::new();
    for f in &fills {
        *net.entry(f.symbol).or_insert(Decimal::ZERO) += f.side.sign() * f.qty;
    }
    assert!(
        net.values().all(Decimal::is_zero),
        "flat after the kill: {net:?}"
    );

    let verified = run_bot4(&["audit", "verify", &path(&out)], TIMEOUT);
    assert!(verified.status.success(), "{}", verified.describe());
    assert!(
        verified.stdout.contains("audit: 7 entries, chain intact"),
        "{}",
        verified.stdout
    );
}

#[test]
fn a_paced_job_behind_its_market_pauses_on_clock_skew() {
    let dir = TempDir::new().expect("a temporary folder");
    let input = dir.path().join("market");
    generate_market(market_config(4, 3_600, 1, 4.0), &input);
    let out = dir.path().join("out");
    let path = |p: &Path| p.display().to_string();
    // A microsecond of tolerance: a paced reader is always a little behind the clock.
    let run = run_bot4(
        &[
            "replay",
            "--input",
            &path(&input),
            "--out",
            &path(&out),
            "--bar",
            TEST_BAR,
            "--quiet",
            "--no-signals",
            "--pace",
            "3600",
            "--max-clock-skew",
            "1us",
        ],
        TIMEOUT,
    );
    assert!(run.status.success(), "{}", run.describe());
    let control: Vec<ControlEvent> = table(&out, &registry_of(&input));
    assert!(!control.is_empty(), "the trigger fired");
    for event in &control {
        assert_eq!(
            (event.command, event.source),
            (ControlCommand::Pause, ControlSource::ClockSkew),
            "the trigger only pauses, never lifts: {control:?}"
        );
        assert!(
            event.reason.contains("behind the local clock"),
            "{}",
            event.reason
        );
    }
    assert!(run.stdout.contains("final mode pause"), "{}", run.stdout);
}
