//! Centres: their category, place, area, zones and links.

use std::collections::HashSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::hours::OpeningPeriod;

/// Most zones one centre lists: a large community centre has a few dozen rooms.
pub const MAX_ZONES: usize = 200;
/// Most compounds one centre is linked to.
pub const MAX_LINKED_COMPOUNDS: usize = 500;
/// Largest floor area accepted, in square metres (a mistake beyond it).
pub const MAX_AREA: i32 = 1_000_000;

/// A centre's code: the cell code rules (see `civicgrid_cell_tree::is_valid_id`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CentreId(String);

impl CentreId {
    /// Accepts a valid code.
    pub fn parse(id: &str) -> Option<CentreId> {
        civicgrid_cell_tree::is_valid_id(id).then(|| CentreId(id.to_owned()))
    }

    /// Accepts `centres/{id}`.
    pub fn parse_name(name: &str) -> Option<CentreId> {
        name.strip_prefix("centres/").and_then(CentreId::parse)
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `centres/{id}`.
    pub fn resource_name(&self) -> String {
        centre_name(&self.0)
    }
}

impl fmt::Display for CentreId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `centres/{id}` from an id.
pub fn centre_name(id: &str) -> String {
    format!("centres/{id}")
}

macro_rules! stored_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in contract order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The snake_case name stored and shipped in files.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// Parses the snake_case name.
            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|value| value.as_str() == text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_enum! {
    /// The eight kinds of place a centre serves.
    Category {
        /// 社区.
        Community = "community",
        /// 小区.
        ResidentialCompound = "residential_compound",
        /// 园区.
        IndustrialPark = "industrial_park",
        /// 楼宇.
        OfficeBuilding = "office_building",
        /// 商圈 / 市场.
        BusinessDistrict = "business_district",
        /// 行业系统.
        IndustrySystem = "industry_system",
        /// 非公企业.
        NonPublicEnterprise = "non_public_enterprise",
        /// 社会组织.
        SocialOrganisation = "social_organisation",
    }
}

stored_enum! {
    /// The "1+3" functions a zone serves.
    Function {
        /// 党群活动.
        PartyMassActivity = "party_mass_activity",
        /// 学习议事.
        StudyAndDeliberation = "study_and_deliberation",
        /// 文化健身.
        CultureAndFitness = "culture_and_fitness",
        /// 便民服务.
        ConvenienceServices = "convenience_services",
    }
}

/// A functional zone, the unit of booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    /// Unique within the centre; cell code rules.
    pub id: String,
    /// Its name.
    pub display_name: String,
    /// What it is for.
    pub function: Function,
    /// Square metres.
    pub area: i32,
    /// People at once.
    pub capacity: i32,
}

/// Where a centre is: a cell or a compound of the replicated grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `cells/{id}`.
    Cell(String),
    /// `compounds/{id}`.
    Compound(String),
}

/// A point (WGS 84) in millionths of a degree, so a centre stays `Eq`;
/// a millionth of a degree is about 11 cm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GeoPoint {
    /// Latitude × 10⁶.
    pub latitude_e6: i32,
    /// Longitude × 10⁶.
    pub longitude_e6: i32,
}

impl GeoPoint {
    /// Accepts latitude -90..=90 and longitude -180..=180 degrees.
    pub fn from_degrees(latitude: f64, longitude: f64) -> Option<GeoPoint> {
        let valid = (-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude);
        // In range, so the rounded millionths fit an i32.
        #[allow(clippy::cast_possible_truncation)]
        valid.then(|| GeoPoint {
            latitude_e6: (latitude * 1e6).round() as i32,
            longitude_e6: (longitude * 1e6).round() as i32,
        })
    }

    /// Latitude in degrees.
    pub fn latitude(self) -> f64 {
        f64::from(self.latitude_e6) / 1e6
    }

    /// Longitude in degrees.
    pub fn longitude(self) -> f64 {
        f64::from(self.longitude_e6) / 1e6
    }
}

/// A centre to register, parsed from a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCentre {
    /// Its code.
    pub id: CentreId,
    /// Its name.
    pub display_name: String,
    /// Its category.
    pub category: Category,
    /// The running organisation's resource name.
    pub owner_organisation: String,
    /// Where it is.
    pub location: Location,
    /// Square metres.
    pub floor_area: i32,
    /// Weekly schedule.
    pub opening_hours: Vec<OpeningPeriod>,
    /// Zones, ids unique.
    pub zones: Vec<Zone>,
    /// Compound ids it is linked to serve, unique.
    pub linked_compounds: Vec<String>,
    /// Where its entrance is, if known.
    pub coordinates: Option<GeoPoint>,
}

/// Changes to a centre, parsed from a request and its field mask.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CentrePatch {
    /// New name, when masked.
    pub display_name: Option<String>,
    /// New owner, when masked.
    pub owner_organisation: Option<String>,
    /// New area, when masked.
    pub floor_area: Option<i32>,
    /// New schedule, when masked.
    pub opening_hours: Option<Vec<OpeningPeriod>>,
    /// New zones, when masked.
    pub zones: Option<Vec<Zone>>,
    /// New links, when masked.
    pub linked_compounds: Option<Vec<String>>,
    /// New coordinates (`Some(None)` clears them), when masked.
    pub coordinates: Option<Option<GeoPoint>>,
}

/// A stored centre.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Centre {
    /// Its code.
    pub id: String,
    /// Its name.
    pub display_name: String,
    /// Its category.
    pub category: Category,
    /// The running organisation's resource name.
    pub owner_organisation: String,
    /// Where it is.
    pub location: Location,
    /// The path of its cell (a compound's: its community's).
    pub location_path: String,
    /// Square metres.
    pub floor_area: i32,
    /// Weekly schedule.
    pub opening_hours: Vec<OpeningPeriod>,
    /// Zones.
    pub zones: Vec<Zone>,
    /// Compound ids it is linked to serve.
    pub linked_compounds: Vec<String>,
    /// Where its entrance is, if known.
    pub coordinates: Option<GeoPoint>,
    /// Incremented on every change.
    pub version: i64,
    /// Created at.
    pub create_time: DateTime<Utc>,
    /// Last changed at.
    pub update_time: DateTime<Utc>,
}

impl Centre {
    /// The zone `id`, if the centre has one.
    pub fn zone(&self, id: &str) -> Option<&Zone> {
        self.zones.iter().find(|zone| zone.id == id)
    }

    /// The functions the centre has at least one zone for.
    pub fn functions(&self) -> HashSet<Function> {
        self.zones.iter().map(|zone| zone.function).collect()
    }
}

/// Indexes of zones whose id repeats an earlier one.
pub fn duplicate_zone_ids(zones: &[Zone]) -> Vec<usize> {
    let mut seen = HashSet::new();
    zones
        .iter()
        .enumerate()
        .filter(|(_, zone)| !seen.insert(zone.id.as_str()))
        .map(|(index, _)| index)
        .collect()
}
