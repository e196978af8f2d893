//! SSH_ASKPASS served by the application itself, so that `qemu+ssh://`
//! password and host-key questions reach the user in the app's own
//! dialogs, never a terminal.
//!
//! At start the application listens on a private Unix socket and sets
//! `SSH_ASKPASS` to its own binary (with `SSH_ASKPASS_REQUIRE=force` and
//! the socket's path) in its environment, which libvirt's `ssh` inherits.
//! When ssh runs `virt-manager PROMPT`, [`run_helper`] sends the prompt
//! over the socket and prints the answer; the running application asks
//! the user (see `EngineMsg::AskPass`).

use std::io::{BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::Duration;

/// Where the running application listens (set in its environment).
pub const SOCKET_ENV: &str = "VIRT_MANAGER_ASKPASS_SOCKET";

/// Longest wait for the user to answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);

/// True when this process was started by ssh as the askpass helper.
pub fn is_helper_invocation(args: &[String]) -> bool {
    std::env::var_os(SOCKET_ENV).is_some()
        && args.len() == 2
        && !args[1].starts_with('-')
        && !args[1].starts_with("vnc://")
}

/// The helper side: asks the application, prints the answer. Exit status
/// 1 when there is none (ssh then gives up).
pub fn run_helper(prompt: &str) -> std::process::ExitCode {
    let answer = (|| -> std::io::Result<Option<String>> {
        let path =
            std::env::var_os(SOCKET_ENV).ok_or_else(|| std::io::Error::other("no socket"))?;
        let mut stream = UnixStream::connect(path)?;
        stream.set_read_timeout(Some(ANSWER_TIMEOUT))?;
        stream.write_all(prompt.as_bytes())?;
        stream.shutdown(std::net::Shutdown::Write)?;
        let mut reply = String::new();
        stream.read_to_string(&mut reply)?;
        Ok(reply
            .strip_prefix("OK ")
            .map(|a| a.trim_end_matches('\n').to_owned()))
    })();
    match answer {
        Ok(Some(a)) => {
            println!("{a}");
            std::process::ExitCode::SUCCESS
        }
        _ => std::process::ExitCode::FAILURE,
    }
}

/// The application side: sets the environment and starts listening.
/// `ask` is called on the listener's threads and may block until the user
/// answers (None: cancelled). Must run before any other thread exists
/// (it changes the process environment).
pub fn serve(
    ask: impl Fn(String) -> Option<String> + Send + Sync + 'static,
) -> std::io::Result<PathBuf> {
    let path = crate::paths::runtime_dir()?.join(format!("askpass-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    let exe = std::env::current_exe()?;
    // Safety: called at start, before the application spawns threads.
    unsafe {
        std::env::set_var("SSH_ASKPASS", &exe);
        std::env::set_var("SSH_ASKPASS_REQUIRE", "force");
        std::env::set_var(SOCKET_ENV, &path);
    }
    let ask = std::sync::Arc::new(ask);
    std::thread::Builder::new()
        .name("askpass".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let ask = ask.clone();
                // One thread per question: ssh may ask several at once.
                let _ = std::thread::Builder::new()
                    .name("askpass-question".into())
                    .spawn(move || {
                        let mut stream = stream;
                        let mut prompt = String::new();
                        let _ = BufReader::new(&mut stream)
                            .take(4096)
                            .read_to_string(&mut prompt);
                        let reply = match ask(prompt) {
                            Some(answer) => format!("OK {answer}\n"),
                            None => "CANCELLED\n".to_owned(),
                        };
                        let _ = stream.write_all(reply.as_bytes());
                    });
            }
        })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    #[test]
    fn helper_invocations_are_recognised_only_with_the_socket() {
        let args = vec!["virt-manager".to_owned(), "root@h's password: ".to_owned()];
        // No socket in the test environment.
        assert!(!super::is_helper_invocation(&args));
    }
}
