//! Quotas: warnings at 80% and 90%, and writes over a limit refused with nothing written.

use kura_core::{ErrorKind, ImportOptions, Job, QuotaLevel};

use crate::{noise, read_tree, Fixture};

#[test]
fn writes_over_max_project_size_are_refused_and_change_nothing() {
    let fx = Fixture::new();
    let src = fx.tree("app", &[("a.bin", &noise(600_000, 1))]);
    let p = fx
        .vault
        .import_folder(&src, &ImportOptions::default(), &Job::default())
        .unwrap()
        .project;
    fx.vault
        .set_config("quota.max_project_size", "1 MiB")
        .unwrap();
    let before = read_tree(&p.path);

    let err = fx
        .vault
        .save_file("app", "b.bin", &mut &noise(600_000, 2)[..])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExceeded, "{err}");
    assert!(
        err.message().contains("quota.max_project_size (1 MiB)"),
        "{err}"
    );
    assert!(err.message().contains("project 'app'"), "{err}");
    assert_eq!(read_tree(&p.path), before, "nothing half-written");

    let drop_dir = fx.tree("drop", &[("c.bin", &noise(600_000, 3))]);
    let err = fx
        .vault
        .upload_files("app", &[drop_dir.join("c.bin")], "", &Job::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExceeded, "{err}");
    assert_eq!(read_tree(&p.path), before);

    // Replacing a file with one of the same size is fine.
    fx.vault
        .save_file("app", "a.bin", &mut &noise(600_000, 4)[..])
        .unwrap();

    let big = fx.tree("big", &[("x.bin", &noise(1_200_000, 5))]);
    let err = fx
        .vault
        .import_folder(&big, &ImportOptions::default(), &Job::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExceeded, "{err}");
    assert!(fx.vault.project("big").is_err());
}

#[test]
fn usage_warns_at_80_and_90_percent() {
    let fx = Fixture::new();
    let src = fx.tree("app", &[("a.bin", &noise(850_000, 1))]);
    fx.vault
        .import_folder(&src, &ImportOptions::default(), &Job::default())
        .unwrap();
    let status = fx.vault.quota_status().unwrap();
    assert_eq!(status.projects[0].level, QuotaLevel::Ok);
    assert!(status.warnings.is_empty());

    fx.vault
        .set_config("quota.max_project_size", "1000000")
        .unwrap();
    let status = fx.vault.quota_status().unwrap();
    assert_eq!(status.projects[0].level, QuotaLevel::Warning80);
    assert!(
        status.warnings[0].contains("project 'app'"),
        "{:?}",
        status.warnings
    );
    fx.vault
        .set_config("quota.max_project_size", "940000")
        .unwrap();
    assert_eq!(
        fx.vault.quota_status().unwrap().projects[0].level,
        QuotaLevel::Warning90
    );
    fx.vault.set_config("quota.total_quota", "1 MiB").unwrap();
    let status = fx.vault.quota_status().unwrap();
    assert_eq!(status.total.level, QuotaLevel::Exceeded);
    assert!(status
        .warnings
        .iter()
        .any(|w| w.contains("quota.total_quota")));
    let err = fx
        .vault
        .save_file("app", "more.txt", &mut &b"x"[..])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExceeded);
    assert!(err.message().contains("quota.total_quota"), "{err}");
}
