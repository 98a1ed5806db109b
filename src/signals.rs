//! SIGINT and SIGTERM during a run: the first asks the run to stop (probes in flight get
//! their grace, outputs are closed properly), the second ends it at once. CI systems stop
//! jobs with SIGTERM; people press Ctrl-C.

use std::io;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// The shell's convention for a process ended by a signal: 128 + its number.
    pub fn status(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }
}

/// The signals a run has received. Listening replaces the default action (ending the
/// process) for good, so only the commands that handle them listen.
pub struct Signals {
    first: watch::Receiver<Option<Signal>>,
    second: watch::Receiver<Option<Signal>>,
    /// The first signal's name, as the engine's run waits for it.
    stop: watch::Receiver<Option<&'static str>>,
    listener: JoinHandle<()>,
}

impl Signals {
    pub fn listen() -> io::Result<Signals> {
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let (first_tx, first) = watch::channel(None);
        let (second_tx, second) = watch::channel(None);
        let (stop_tx, stop) = watch::channel(None);
        let listener = tokio::spawn(async move {
            let next = async |interrupt: &mut tokio::signal::unix::Signal,
                              terminate: &mut tokio::signal::unix::Signal| {
                tokio::select! {
                    Some(()) = interrupt.recv() => Signal::Interrupt,
                    Some(()) = terminate.recv() => Signal::Terminate,
                    else => std::future::pending().await,
                }
            };
            let signal = next(&mut interrupt, &mut terminate).await;
            // The run first: whoever sees `first` (and says the run is stopping) can count
            // on the run having been asked already.
            stop_tx.send_replace(Some(signal.name()));
            first_tx.send_replace(Some(signal));
            let signal = next(&mut interrupt, &mut terminate).await;
            second_tx.send_replace(Some(signal));
        });
        Ok(Signals {
            first,
            second,
            stop,
            listener,
        })
    }

    /// For the engine's run: set to the first signal's name.
    pub fn stop(&self) -> watch::Receiver<Option<&'static str>> {
        self.stop.clone()
    }

    /// The first signal, if one came.
    pub fn first(&self) -> Option<Signal> {
        *self.first.borrow()
    }

    /// Waits for the first signal.
    pub async fn first_came(&self) -> Signal {
        came(self.first.clone()).await
    }

    /// Waits for a second signal.
    pub async fn second(&self) -> Signal {
        came(self.second.clone()).await
    }
}

/// A fresh receiver each time sees the value already sent, so a wait can be dropped and
/// started again without missing the signal.
async fn came(mut signal: watch::Receiver<Option<Signal>>) -> Signal {
    if let Ok(signal) = signal.wait_for(Option::is_some).await
        && let Some(signal) = *signal
    {
        return signal;
    }
    std::future::pending().await
}

impl Drop for Signals {
    fn drop(&mut self) {
        self.listener.abort();
    }
}
