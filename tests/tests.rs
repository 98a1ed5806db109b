//! End-to-end tests: the built `prober` binary against in-process fixtures on loopback, a
//! real sshd, the farm, and (ignored unless the compose fixtures are up) real OpenSSH hosts.

mod util;

mod banner;
mod categories;
mod cli;
mod compose;
mod compose_files;
mod farm;
mod hostile;
mod input;
mod interrupt;
mod jumpserver_api;
mod junit;
mod koko;
mod koko_fixture;
mod lang;
mod openssh;
mod preflight;
mod readme;
mod real_sshd;
mod results;
mod sd;
mod shard;
mod shell;
