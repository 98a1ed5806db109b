//! `prober check`: the admin stages of one asset, from resolving its name to inspecting
//! it, then a login as each of its system users.

use super::outcome::{AssetProbe, Probing};
use super::{Prober, Target, deadline::Deadline, goodbye, inspect, system_users};
use crate::category::Stage;

impl Prober {
    /// The admin stages of one asset, then its system users.
    pub(super) async fn check(&self, target: &Target) -> AssetProbe {
        let deadline = Deadline::after(self.timeouts.total);
        let mut probing = Probing::start();
        let credential = &target.credential;
        let (verdict, session) = match self.login_admin(target, &mut probing.obs, &deadline).await {
            Err(failure) => (Err(failure), None),
            Ok((session, how)) => {
                let inspected = deadline
                    .stage(
                        Stage::Inspect,
                        self.timeouts.exec,
                        inspect::inspect(&session, &mut probing.obs),
                    )
                    .await
                    .map(|done| {
                        format!(
                            "{done}; logged in as {} with {how}{}",
                            credential.username,
                            target.via()
                        )
                    });
                (inspected, Some(session))
            }
        };
        let own = probing.done(verdict);
        let system_users =
            system_users::check(self, target, &own, session.as_ref(), &deadline).await;
        if let Some(session) = session {
            goodbye(session).await;
        }
        AssetProbe {
            own: Some(own),
            system_users,
        }
    }
}
