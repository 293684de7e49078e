//! C3: placeholder until its analysis lands.

use anyhow::{Result, bail};

use super::{ClaimContext, ClaimDef, ClaimOutcome};

/// The claim's definition.
pub static DEF: ClaimDef = ClaimDef {
    id: "C3",
    claim: "(not yet written)",
    source: "(not yet written)",
    arms: &[],
    analyse,
};

fn analyse(_ctx: &ClaimContext<'_>) -> Result<ClaimOutcome> {
    bail!("C3: analysis not written yet")
}
