//! The volume model: how much oil a ship carried, in tonnes and barrels, with an honest
//! relative uncertainty.
//!
//! tonnes = DWT × fill factor × load fraction, where the load fraction is the draught change
//! relative to the ship's ballast-to-laden range (1 when the draught is unknown but the ship
//! loaded at a terminal). DWT comes from vessel particulars when the user gives them
//! (`--particulars`), otherwise from the AFRA size class that the ship's AIS length implies.
//! Barrels = tonnes × barrels per tonne of the product (UN energy statistics factors: crude
//! 7.32, gas/diesel oil 7.23, fuel oil 6.91; EIA uses 0.9 as the fill factor of a "full" cargo
//! of crude carriers less bunkers and stores: 0.95 here, configurable).

use serde::{Deserialize, Serialize};

/// A tanker size class (the AFRA scale as used in tanker markets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TankerClass {
    /// `MR`, `LR1`, `Aframax`, `Suezmax`, `VLCC`.
    pub name: String,
    /// Typical length overall, metres.
    pub length_m: f64,
    /// Deadweight range, tonnes.
    pub dwt: [f64; 2],
    /// Ballast and laden draught, metres.
    pub draught_m: [f64; 2],
}

/// Volume model parameters. Every field has a default; see `docs/voyages.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VolumeConfig {
    /// Share of deadweight a full cargo fills (the rest: bunkers, stores, water).
    pub fill_factor: f64,
    /// Its uncertainty, ± (absolute).
    pub fill_factor_spread: f64,
    /// Barrels per tonne of crude oil (UN: 7.32).
    pub crude_bbl_per_t: f64,
    /// Barrels per tonne of gas/diesel oil (UN: 7.23).
    pub diesel_bbl_per_t: f64,
    /// Barrels per tonne of fuel oil (UN: 6.91).
    pub fuel_oil_bbl_per_t: f64,
    /// Relative uncertainty of a deadweight from particulars.
    pub particulars_dwt_spread: f64,
    /// Relative uncertainty of the load fraction read from draughts (AIS draughts are entered
    /// by hand, to 0.1 m).
    pub draught_spread: f64,
    /// Size classes, smallest first, used when no particulars give the deadweight.
    pub classes: Vec<TankerClass>,
}

impl Default for VolumeConfig {
    fn default() -> Self {
        let class = |name: &str, length_m, dwt, draught_m| TankerClass {
            name: name.into(),
            length_m,
            dwt,
            draught_m,
        };
        VolumeConfig {
            fill_factor: 0.95,
            fill_factor_spread: 0.03,
            crude_bbl_per_t: 7.32,
            diesel_bbl_per_t: 7.23,
            fuel_oil_bbl_per_t: 6.91,
            particulars_dwt_spread: 0.02,
            draught_spread: 0.03,
            classes: vec![
                class("MR", 183.0, [40_000.0, 55_000.0], [6.5, 12.0]),
                class("LR1", 228.0, [60_000.0, 80_000.0], [7.0, 13.5]),
                class("Aframax", 245.0, [80_000.0, 120_000.0], [7.5, 14.8]),
                class("Suezmax", 275.0, [120_000.0, 200_000.0], [8.5, 17.0]),
                class("VLCC", 330.0, [200_000.0, 320_000.0], [10.0, 21.5]),
            ],
        }
    }
}

/// What a ship's particulars or dimensions say about its capacity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Capacity {
    /// Deadweight, tonnes.
    pub dwt: f64,
    /// Relative uncertainty of `dwt`.
    pub dwt_spread: f64,
    /// Ballast and laden draught, metres.
    pub draught_m: [f64; 2],
    /// Where the deadweight comes from: `particulars` or the class name.
    pub source: &'static str,
}

/// A volume with its relative uncertainty.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Volume {
    /// Tonnes.
    pub tonnes: f64,
    /// Barrels.
    pub barrels: f64,
    /// Relative uncertainty (± share of the value).
    pub spread: f64,
}

impl VolumeConfig {
    /// The class nearest in length (the largest when the length is unknown: a conservative
    /// upper bound is widened by the spread).
    pub fn class_for(&self, length_m: Option<f64>) -> Option<&TankerClass> {
        match length_m {
            Some(l) if l > 0.0 => self
                .classes
                .iter()
                .min_by(|a, b| (a.length_m - l).abs().total_cmp(&(b.length_m - l).abs())),
            _ => self.classes.get(self.classes.len() / 2),
        }
    }

    /// Capacity from particulars' deadweight, else from the class of `length_m`.
    pub fn capacity(&self, dwt: Option<f64>, length_m: Option<f64>) -> Option<Capacity> {
        if let Some(dwt) = dwt.filter(|d| *d > 0.0) {
            // The draught range of the class whose deadweight range holds it.
            let class = self
                .classes
                .iter()
                .find(|c| dwt <= c.dwt[1])
                .or(self.classes.last())?;
            return Some(Capacity {
                dwt,
                dwt_spread: self.particulars_dwt_spread,
                draught_m: class.draught_m,
                source: "particulars",
            });
        }
        let c = self.class_for(length_m)?;
        let mid = (c.dwt[0] + c.dwt[1]) / 2.0;
        let spread = if length_m.is_some() {
            (c.dwt[1] - c.dwt[0]) / 2.0 / mid
        } else {
            0.5
        };
        Some(Capacity {
            dwt: mid,
            dwt_spread: spread,
            draught_m: c.draught_m,
            source: if length_m.is_some() {
                "class"
            } else {
                "unknown_size"
            },
        })
    }

    /// Barrels per tonne of a terminal's product list, with its own uncertainty when the
    /// terminal loads several products.
    pub fn barrels_per_tonne(&self, products: &[&str]) -> (f64, f64) {
        let f = |p: &str| match p {
            "diesel" => self.diesel_bbl_per_t,
            "fuel_oil" => self.fuel_oil_bbl_per_t,
            _ => self.crude_bbl_per_t,
        };
        if products.is_empty() {
            return (self.crude_bbl_per_t, 0.0);
        }
        let lo = products.iter().map(|p| f(p)).fold(f64::INFINITY, f64::min);
        let hi = products.iter().map(|p| f(p)).fold(0.0, f64::max);
        let mid = (lo + hi) / 2.0;
        (mid, (hi - lo) / 2.0 / mid)
    }

    /// Share of a full cargo that a draught change from `before` to `after` implies.
    pub fn load_fraction(cap: &Capacity, before: f64, after: f64) -> f64 {
        let range = (cap.draught_m[1] - cap.draught_m[0]).max(0.5);
        ((after - before).abs() / range).clamp(0.0, 1.0)
    }

    /// The volume of `fraction` of a full cargo for `cap`, in a product of `bbl_per_t` ± `bbl_spread`.
    pub fn volume(
        &self,
        cap: &Capacity,
        fraction: f64,
        bbl_per_t: f64,
        bbl_spread: f64,
        from_draught: bool,
    ) -> Volume {
        let tonnes = cap.dwt * self.fill_factor * fraction;
        let spread = cap.dwt_spread
            + self.fill_factor_spread / self.fill_factor
            + bbl_spread
            + if from_draught {
                self.draught_spread
            } else {
                0.1
            };
        Volume {
            tonnes,
            barrels: tonnes * bbl_per_t,
            spread,
        }
    }
}
