//! `--jumpserver URL`: the assets come from JumpServer's REST API instead of a file.

use std::path::PathBuf;

use clap::Args;

use prober_engine::jumpserver::{self, ApiVersion, Auth, DEFAULT_PAGE_SIZE, Source};
use prober_engine::run::Entries;

/// Reading the assets from JumpServer's API. Its credentials come from the environment
/// (JMS_ACCESS_KEY_ID and JMS_ACCESS_KEY_SECRET, or JMS_PRIVATE_TOKEN) or a file.
#[derive(Debug, Clone, Args)]
pub struct JumpServerArgs {
    /// Read the assets from this JumpServer's API (e.g. https://jms.example.com) instead
    /// of an inventory file.
    #[arg(long, value_name = "URL")]
    pub jumpserver: Option<String>,
    /// TOML file with the API's credentials: key_id and secret (an access key), or token
    /// [default: the JMS_* environment variables].
    #[arg(long, value_name = "FILE", requires = "jumpserver")]
    pub jumpserver_auth: Option<PathBuf>,
    /// The organisation to read (its id, sent as X-JMS-ORG) [default: the user's default].
    #[arg(long, value_name = "ORG_ID", requires = "jumpserver")]
    pub jumpserver_org: Option<String>,
    /// Only the assets under this node (its id), its children's included.
    #[arg(long, value_name = "NODE_ID", requires = "jumpserver")]
    pub jumpserver_node: Option<String>,
    /// Only the assets whose name or address contains this text (JumpServer's search).
    #[arg(long, value_name = "TEXT", requires = "jumpserver")]
    pub jumpserver_search: Option<String>,
    /// PEM file of the CA that signed JumpServer's certificate, trusted besides the
    /// system's roots.
    #[arg(long, value_name = "FILE", requires = "jumpserver")]
    pub jumpserver_ca: Option<PathBuf>,
    /// The API's version: 1.4, 3 (3.x and 4.x), or auto (3.x/4.x's paths if present, else 1.4's).
    #[arg(long, value_enum, value_name = "VERSION", default_value_t = ApiVersion::Auto, requires = "jumpserver")]
    pub jumpserver_api: ApiVersion,
    /// Assets asked for per request (JumpServer 4 gives at most 1000).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PAGE_SIZE, value_parser = clap::value_parser!(u32).range(1..=1000), requires = "jumpserver")]
    pub jumpserver_page_size: u32,
    /// Accept a plain http:// address that is not loopback: the API's credentials then
    /// cross the network unencrypted.
    #[arg(long, requires = "jumpserver")]
    pub jumpserver_allow_http: bool,
}

impl JumpServerArgs {
    /// The assets, when `--jumpserver` is given: its first page read (and the credentials
    /// checked) before this returns; later pages as the run asks for them.
    pub async fn open(&self, allow_empty: bool) -> anyhow::Result<Option<Entries>> {
        let Some(url) = &self.jumpserver else {
            return Ok(None);
        };
        let source = Source {
            url: url.clone(),
            auth: Auth::load(self.jumpserver_auth.as_deref())?,
            org: self.jumpserver_org.clone(),
            node: self.jumpserver_node.clone(),
            search: self.jumpserver_search.clone(),
            api: self.jumpserver_api,
            ca: self.jumpserver_ca.clone(),
            page_size: self.jumpserver_page_size,
            allow_http: self.jumpserver_allow_http,
        };
        // The client blocks: off the runtime's threads.
        let entries =
            tokio::task::spawn_blocking(move || jumpserver::open(source, allow_empty)).await??;
        Ok(Some(entries))
    }
}
