//! The decoders through the C ABI, as the host sees them: the entry
//! symbol, the vtable's info, create (and its refusal of other pixel
//! formats), decode and destroy.

use std::ffi::c_void;

use virt_manager_plugin_api::abi::{self, Bytes, DecoderHandle, PixelFormat, Rect, Writer};
use virt_manager_plugin_api::{DecoderLibraryInfo, ErrorCode};

unsafe extern "C" fn append(ctx: *mut c_void, ptr: *const u8, len: usize) {
    let buf = unsafe { &mut *(ctx as *mut Vec<u8>) };
    buf.extend_from_slice(unsafe { std::slice::from_raw_parts(ptr, len) });
}

fn writer(buf: &mut Vec<u8>) -> Writer {
    Writer {
        ctx: buf as *mut Vec<u8> as *mut c_void,
        write: append,
    }
}

fn vtable() -> &'static abi::DecoderVtable {
    let desc = unsafe { &*virt_manager_rfb::virt_manager_plugin_v1(std::ptr::null()) };
    assert_eq!(desc.abi_major, abi::ABI_MAJOR);
    assert!(!desc.decoders.is_null());
    let vt = unsafe { &*desc.decoders };
    assert!(vt.size >= abi::DECODER_VTABLE_MIN_SIZE);
    vt
}

#[test]
fn info_lists_every_encoding() {
    let vt = vtable();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(unsafe { (vt.info)(writer(&mut out), writer(&mut err)) }, 0);
    let info: DecoderLibraryInfo = serde_json::from_slice(&out).unwrap();
    assert!(info.encodings.iter().any(|e| e.name == "ZRLE"));
    let mut got: Vec<i32> = info.encodings.iter().map(|e| e.encoding).collect();
    got.sort();
    assert_eq!(got, vec![-260, 1, 2, 5, 6, 7, 16]);
}

#[test]
fn other_pixel_formats_and_encodings_are_not_supported() {
    let vt = vtable();
    let mut fmt = PixelFormat::HOST;
    fmt.bits_per_pixel = 16;
    fmt.depth = 16;
    let mut handle: DecoderHandle = std::ptr::null_mut();
    let mut err = Vec::new();
    let status = unsafe { (vt.create)(16, &fmt, &mut handle, writer(&mut err)) };
    assert_eq!(status, ErrorCode::NotSupported as i32);
    assert!(!err.is_empty());
    let status =
        unsafe { (vt.create)(0, &PixelFormat::HOST, &mut handle, writer(&mut Vec::new())) };
    assert_eq!(
        status,
        ErrorCode::NotSupported as i32,
        "Raw belongs to the host"
    );
}

#[test]
fn decode_through_the_vtable() {
    let vt = vtable();
    let mut handle: DecoderHandle = std::ptr::null_mut();
    assert_eq!(
        unsafe { (vt.create)(1, &PixelFormat::HOST, &mut handle, writer(&mut Vec::new())) },
        0
    );
    let mut px: Vec<u32> = (0..64).collect();
    let fb = abi::Framebuffer {
        pixels: px.as_mut_ptr() as *mut u8,
        stride: 32,
        width: 8,
        height: 8,
    };
    let rect = Rect {
        x: 4,
        y: 4,
        width: 2,
        height: 2,
        encoding: 1,
    };
    let mut result = abi::DecodeResult::default();
    let call = |data: &[u8], result: &mut abi::DecodeResult, err: &mut Vec<u8>| unsafe {
        (vt.decode)(
            handle,
            &rect,
            Bytes::from_slice(data),
            &fb,
            result,
            writer(err),
        )
    };
    assert_eq!(call(&[0, 1], &mut result, &mut Vec::new()), 0);
    assert_eq!(
        result,
        abi::DecodeResult {
            kind: abi::DECODE_NEED_MORE,
            count: 2
        }
    );
    assert_eq!(call(&[0, 1, 0, 0], &mut result, &mut Vec::new()), 0);
    assert_eq!(
        result,
        abi::DecodeResult {
            kind: abi::DECODE_DONE,
            count: 4
        }
    );
    assert_eq!(&px[36..38], &[1, 2]);
    assert_eq!(&px[44..46], &[9, 10]);
    // A source outside the framebuffer is an error with a message.
    let mut err = Vec::new();
    assert_eq!(
        call(&[0, 7, 0, 0], &mut result, &mut err),
        ErrorCode::InvalidArgument as i32
    );
    assert!(String::from_utf8(err).unwrap().contains("CopyRect"));
    unsafe { (vt.destroy)(handle) };
}
