//! The open-file limit must cover every connection in flight; raise the soft limit and,
//! where the hard limit forbids, lower the concurrency rather than fail mid-run.

/// Descriptors per probe in flight (socket, plus resolver and slack), and for the rest.
const PER_PROBE: u64 = 2;
const RESERVED: u64 = 128;

/// Returns the concurrency the limit allows, and a warning if it had to be lowered.
pub fn fit_concurrency(wanted: usize) -> (usize, Option<String>) {
    let needed = wanted as u64 * PER_PROBE + RESERVED;
    match rlimit::increase_nofile_limit(needed) {
        Ok(limit) if limit >= needed => (wanted, None),
        Ok(limit) => {
            let fits = (limit.saturating_sub(RESERVED) / PER_PROBE).max(1) as usize;
            (
                fits,
                Some(format!(
                    "the open-file limit is {limit}, too low for --concurrency {wanted}; using {fits} (raise it with ulimit -n)"
                )),
            )
        }
        Err(e) => (
            wanted,
            Some(format!("cannot raise the open-file limit: {e}")),
        ),
    }
}
