//! The Python package and the Spark job (`python/`), tested with pytest in the venv that
//! `sh python/setup.sh target/py-venv` makes: decoding, the pipeline on Arrow and the store
//! against this binary, and `python -m shadowfleet.spark` on `local[2]` against `analyze`.
//! Skipped loudly without the venv unless SHADOWFLEET_REQUIRE_PYTHON is set (CI sets it).

use std::path::PathBuf;
use std::process::Command;

#[test]
fn python_package_and_spark_job() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = std::env::var("SHADOWFLEET_PY_VENV")
        .map_or_else(|_| repo.join("target/py-venv"), PathBuf::from);
    let pytest = venv.join("bin/pytest");
    if !pytest.exists() {
        shadowfleet_testkit::skip(
            format_args!(
                "the Python package and Spark tests: no {} (sh python/setup.sh target/py-venv)",
                pytest.display()
            ),
            "SHADOWFLEET_REQUIRE_PYTHON",
        );
        return;
    }
    let out = Command::new(&pytest)
        .arg(repo.join("python/tests"))
        .args(["-q", "-p", "no:cacheprovider"])
        .env("SHADOWFLEET_BIN", env!("CARGO_BIN_EXE_shadowfleet"))
        .env("SHADOWFLEET_TEST_TMP", env!("CARGO_TARGET_TMPDIR"))
        .env("SHADOWFLEET_REQUIRE_SPARK", "1")
        .current_dir(&repo)
        .output()
        .expect("running pytest");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "pytest failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
