//! The host's side of the C ABI: output writers, the event sink and the
//! host API table handed to every plugin.

use std::ffi::c_void;

use virt_manager_plugin_api::abi::{self, Bytes, HostApi, Writer};
use virt_manager_plugin_api::{BackendEvent, CredentialQuestions};

unsafe extern "C" fn write_to_vec(ctx: *mut c_void, ptr: *const u8, len: usize) {
    if ctx.is_null() || (ptr.is_null() && len > 0) {
        return;
    }
    let buf = unsafe { &mut *(ctx as *mut Vec<u8>) };
    buf.extend_from_slice(unsafe { Bytes { ptr, len }.as_slice() });
}

/// A writer appending to `buf`; valid while `buf` is borrowed.
pub fn vec_writer(buf: &mut Vec<u8>) -> Writer {
    Writer {
        ctx: buf as *mut Vec<u8> as *mut c_void,
        write: write_to_vec,
    }
}

type EventCallback = Box<dyn Fn(BackendEvent) + Send + Sync>;

struct SinkState {
    plugin: String,
    callback: EventCallback,
}

unsafe extern "C" fn sink_emit(ctx: *mut c_void, event: Bytes) {
    if ctx.is_null() {
        return;
    }
    // Safety: ctx is the SinkState boxed in `event_sink` and not yet released.
    let state = unsafe { &*(ctx as *const SinkState) };
    let bytes = unsafe { event.as_slice() };
    // Never unwind into the plugin.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(
        || match serde_json::from_slice::<BackendEvent>(bytes) {
            Ok(BackendEvent::Unknown) => {
                tracing::debug!(plugin = %state.plugin, "ignoring an event kind this version does not know")
            }
            Ok(ev) => (state.callback)(ev),
            Err(e) => tracing::warn!(plugin = %state.plugin, "malformed event: {e}"),
        },
    ));
}

unsafe extern "C" fn sink_release(ctx: *mut c_void) {
    if !ctx.is_null() {
        drop(unsafe { Box::from_raw(ctx as *mut SinkState) });
    }
}

/// Makes a thread-safe sink calling `callback` for each event; the plugin
/// owns it until it calls `release`.
pub fn event_sink(plugin: &str, callback: EventCallback) -> abi::EventSink {
    let state = Box::new(SinkState {
        plugin: plugin.to_owned(),
        callback,
    });
    abi::EventSink {
        ctx: Box::into_raw(state) as *mut c_void,
        emit: sink_emit,
        release: sink_release,
    }
}

unsafe extern "C" fn host_log(level: u32, target: Bytes, message: Bytes) {
    let _ = std::panic::catch_unwind(|| {
        let target = String::from_utf8_lossy(unsafe { target.as_slice() });
        let message = String::from_utf8_lossy(unsafe { message.as_slice() });
        match level {
            abi::LOG_ERROR => tracing::error!(plugin = %target, "{message}"),
            abi::LOG_WARN => tracing::warn!(plugin = %target, "{message}"),
            abi::LOG_INFO => tracing::info!(plugin = %target, "{message}"),
            abi::LOG_DEBUG => tracing::debug!(plugin = %target, "{message}"),
            _ => tracing::trace!(plugin = %target, "{message}"),
        }
    });
}

/// Who answers plugins' credential questions: the application sets it
/// (dialogs); the command line leaves it unset and questions fail.
type Asker = Box<dyn Fn(CredentialQuestions) -> Option<Vec<String>> + Send + Sync>;
static ASKER: std::sync::OnceLock<Asker> = std::sync::OnceLock::new();

/// Sets the one function that asks the user for plugins' credentials. It
/// is called on plugin threads and may block until the user answers.
pub fn set_credential_asker(
    asker: impl Fn(CredentialQuestions) -> Option<Vec<String>> + Send + Sync + 'static,
) {
    let _ = ASKER.set(Box::new(asker));
}

unsafe extern "C" fn host_ask_credentials(questions: Bytes, out: Writer) -> abi::Status {
    let result = std::panic::catch_unwind(|| {
        let q: CredentialQuestions =
            serde_json::from_slice(unsafe { questions.as_slice() }).ok()?;
        let n = q.prompts.len();
        let answers = ASKER.get()?(q)?;
        (answers.len() == n).then_some(answers)
    });
    match result {
        Ok(Some(answers)) => {
            let json = serde_json::to_vec(&answers).unwrap_or_default();
            unsafe { (out.write)(out.ctx, json.as_ptr(), json.len()) };
            0
        }
        _ => virt_manager_plugin_api::ErrorCode::AuthFailed as abi::Status,
    }
}

/// The table every plugin receives; lives for the whole process.
pub static HOST_API: HostApi = HostApi {
    size: std::mem::size_of::<HostApi>(),
    abi_major: abi::ABI_MAJOR,
    abi_minor: abi::ABI_MINOR,
    log: host_log,
    ask_credentials: host_ask_credentials,
};

/// Reads the field at `offset` of a plugin's table of `size` bytes, if the
/// table is long enough to hold it; `None` for a field the plugin's
/// (older) table does not have. Never forms a reference to the whole
/// table, which may be shorter than this version's struct.
///
/// `_field` only names the field's type: `|t: &BackendVtable| &t.open`.
///
/// # Safety
/// `base` must point to a table of at least `size` readable bytes that
/// lives as long as the process.
pub unsafe fn read_field<T, F: Copy>(
    base: *const T,
    size: usize,
    offset: usize,
    _field: impl Fn(&T) -> &F,
) -> Option<F> {
    if !virt_manager_plugin_api::abi::has_field(size, offset, std::mem::size_of::<F>()) {
        return None;
    }
    let ptr = base.cast::<u8>().wrapping_add(offset).cast::<F>();
    Some(unsafe { ptr.read_unaligned() })
}

/// The `size` word every table starts with.
///
/// # Safety
/// `base` must point to a readable table.
pub unsafe fn table_size<T>(base: *const T) -> usize {
    unsafe { base.cast::<usize>().read_unaligned() }
}

/// Reads a field of a plugin table, by name: `field!(ptr, size, BackendVtable, open)`.
macro_rules! field {
    ($base:expr, $size:expr, $ty:ty, $field:ident) => {
        unsafe {
            $crate::plugin_host::ffi::read_field(
                $base,
                $size,
                std::mem::offset_of!($ty, $field),
                |t: &$ty| &t.$field,
            )
        }
    };
}
pub(crate) use field;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_questions_reach_the_asker_and_answers_come_back() {
        set_credential_asker(|q| {
            assert_eq!(q.uri, "qemu+tcp://h/system");
            Some(
                q.prompts
                    .iter()
                    .map(|p| format!("answer to {}", p.kind))
                    .collect(),
            )
        });
        let q = r#"{"uri":"qemu+tcp://h/system","prompts":[{"kind":"authname","prompt":"Name:"},{"kind":"passphrase"}]}"#;
        let mut out = Vec::new();
        let status =
            unsafe { host_ask_credentials(Bytes::from_slice(q.as_bytes()), vec_writer(&mut out)) };
        assert_eq!(status, 0);
        let answers: Vec<String> = serde_json::from_slice(&out).unwrap();
        assert_eq!(answers, ["answer to authname", "answer to passphrase"]);
        // Malformed questions are refused, not passed on.
        let mut out = Vec::new();
        let status =
            unsafe { host_ask_credentials(Bytes::from_slice(b"nonsense"), vec_writer(&mut out)) };
        assert_eq!(
            status,
            virt_manager_plugin_api::ErrorCode::AuthFailed as abi::Status
        );
    }
}
