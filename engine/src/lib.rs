//! The engine of prober: tells, for every asset of a bastion host's inventory, whether it
//! can be reached and managed over SSH by its admin user, and if not, exactly why.
//!
//! The flow: [`inventory`] rows and [`credentials`] become probes; [`probe`] runs the
//! stages (resolve, connect, banner, key exchange, host key, auth, inspect) and gives a
//! [`category::Category`]; [`run`] runs many at once; [`report`] sinks write the results.

pub mod address;
pub mod category;
pub mod credentials;
pub mod i18n;
pub mod inventory;
pub mod jumpserver;
pub mod known_hosts;
pub mod limits;
pub mod local_checks;
pub mod openssh;
pub mod pattern;
pub mod probe;
pub mod quote;
pub mod report;
pub mod results;
pub mod run;
pub mod sync;
pub mod text;

pub use category::{Category, Lang, Stage};
