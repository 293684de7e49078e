//! Command-line messages say what is wrong: no subcommand names the subcommands; a negative
//! number is read as a (bad) value, not as an unknown flag.

use crate::common;
use common::smoe;

fn one_line_exit_2(args: &[&str]) -> String {
    let o = smoe(args);
    let stderr = common::assert_one_line_error(&o, &format!("{args:?}"));
    assert!(o.stdout.is_empty(), "{args:?}: wrote to stdout");
    stderr
}

#[test]
fn no_subcommand_names_the_subcommands() {
    let err = one_line_exit_2(&[]);
    assert_eq!(
        err.trim_end(),
        "smoe: error: a subcommand is required: train, sweep, merge, report, claims, certify, bound or inspect (see smoe --help)"
    );
}

#[test]
fn negative_numbers_are_values() {
    for args in [
        &["train", "--seed", "-1"][..],
        &["train", "--threads", "-3"],
        &["sweep", "--jobs", "-1"],
        &["bound", "--k", "-1", "--T", "4", "--m", "10", "--d", "2"],
    ] {
        let err = one_line_exit_2(args);
        assert!(err.contains("invalid value '-"), "{args:?}: {err}");
        assert!(!err.contains("unexpected argument"), "{args:?}: {err}");
    }
}
