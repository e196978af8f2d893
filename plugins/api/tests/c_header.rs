//! include/virt_manager_plugin.h against src/abi.rs: the two cannot drift.
//!
//! The test reads abi.rs itself to learn every `#[repr(C)]` struct, its
//! fields and their Rust types, every type alias and constant, then writes
//! a C file of `_Static_assert`s: each struct's size and alignment, each
//! field's offset and size (numbers from the compiled Rust), each field's
//! C type (translated from the Rust type, checked with
//! `__builtin_types_compatible_p`, so a changed function signature fails
//! too), and each constant's value. `cc` compiles it against the header and
//! runs it. A field or constant added to abi.rs without the lists below
//! fails the test as well, naming what to add.

#[path = "c_header/rust_source.rs"]
mod rust_source;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::mem::{align_of, offset_of, size_of};
use std::path::{Path, PathBuf};
use std::process::Command;

use rust_source::{AbiSource, RustType};
use virt_manager_plugin_api::{abi, ErrorCode};

/// Layout of one struct as the Rust compiler laid it out.
struct Layout {
    name: &'static str,
    size: usize,
    align: usize,
    /// (field, offset, size), in declaration order.
    fields: Vec<(&'static str, usize, usize)>,
}

fn field_size<T, F>(_: fn(&T) -> &F) -> usize {
    size_of::<F>()
}

macro_rules! layout {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        Layout {
            name: stringify!($ty),
            size: size_of::<abi::$ty>(),
            align: align_of::<abi::$ty>(),
            fields: vec![$((
                stringify!($field),
                offset_of!(abi::$ty, $field),
                field_size(|s: &abi::$ty| &s.$field),
            )),*],
        }
    };
}

/// Every `#[repr(C)]` struct of abi.rs with every field.
fn layouts() -> Vec<Layout> {
    vec![
        layout!(Bytes { ptr, len }),
        layout!(Writer { ctx, write }),
        layout!(EventSink { ctx, emit, release }),
        layout!(HostApi {
            size,
            abi_major,
            abi_minor,
            log,
            ask_credentials
        }),
        layout!(PluginDescriptor {
            size,
            abi_major,
            abi_minor,
            name,
            version,
            backend,
            decoders
        }),
        layout!(BackendVtable {
            size,
            info,
            open,
            close,
            list_domains,
            subscribe,
            connection_info,
            domain_stats,
            host_stats,
            domain_action,
            domain_config,
            apply_domain_config,
            define_domain,
            open_console,
            send_keys,
            screenshot,
            list_networks,
            network_action,
            list_storage_pools,
            storage_pool_action,
        }),
        layout!(PixelFormat {
            bits_per_pixel,
            depth,
            big_endian,
            true_colour,
            red_max,
            green_max,
            blue_max,
            red_shift,
            green_shift,
            blue_shift,
            _padding,
        }),
        layout!(Rect {
            x,
            y,
            width,
            height,
            encoding
        }),
        layout!(Framebuffer {
            pixels,
            stride,
            width,
            height
        }),
        layout!(DecodeResult { kind, count }),
        layout!(DecoderVtable {
            size,
            info,
            create,
            destroy,
            decode
        }),
    ]
}

/// Every numeric constant of abi.rs: the header names it `VMM_<NAME>`.
fn constants() -> Vec<(&'static str, u64)> {
    macro_rules! consts {
        ($($name:ident),* $(,)?) => { vec![$((stringify!($name), abi::$name as u64)),*] };
    }
    consts!(
        ABI_MAJOR,
        ABI_MINOR,
        LOG_ERROR,
        LOG_WARN,
        LOG_INFO,
        LOG_DEBUG,
        LOG_TRACE,
        BACKEND_VTABLE_MIN_SIZE,
        DESCRIPTOR_MIN_SIZE,
        HOST_API_MIN_SIZE,
        DECODE_NEED_MORE,
        DECODE_PARTIAL,
        DECODE_DONE,
        DECODER_VTABLE_MIN_SIZE,
    )
}

/// Every `ErrorCode` with its header name.
fn error_codes() -> Vec<(&'static str, ErrorCode)> {
    vec![
        ("Failed", ErrorCode::Failed),
        ("NotSupported", ErrorCode::NotSupported),
        ("InvalidArgument", ErrorCode::InvalidArgument),
        ("NotFound", ErrorCode::NotFound),
        ("AuthFailed", ErrorCode::AuthFailed),
        ("Panicked", ErrorCode::Panicked),
        ("Disconnected", ErrorCode::Disconnected),
    ]
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn header() -> PathBuf {
    crate_dir().join("include/virt_manager_plugin.h")
}

/// `NotSupported` -> `NOT_SUPPORTED`.
fn screaming(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// The C name of a Rust type name of abi.rs.
fn c_name(rust: &str) -> String {
    match rust {
        "u8" => "uint8_t".into(),
        "u16" => "uint16_t".into(),
        "u32" => "uint32_t".into(),
        "u64" => "uint64_t".into(),
        "i32" => "int32_t".into(),
        "usize" => "size_t".into(),
        "c_int" => "int".into(),
        "c_char" => "char".into(),
        "c_void" => "void".into(),
        other => format!("Vmm{other}"),
    }
}

/// Writes typedefs for `ty` into `out` and returns a C type name for it.
/// Every composite type gets its own typedef, so no C declarator syntax
/// (pointers to functions returning pointers...) is ever needed.
fn c_type(ty: &RustType, out: &mut String, counter: &mut usize) -> String {
    let decl = match ty {
        RustType::Named(name) => return c_name(name),
        RustType::Pointer { constant, to } => {
            let inner = c_type(to, out, counter);
            let qualifier = if *constant { "const " } else { "" };
            format!("{qualifier}{inner} *{{}}")
        }
        RustType::Array { of, len } => {
            let inner = c_type(of, out, counter);
            format!("{inner} {{}}[{len}]")
        }
        RustType::Function { params, ret } => {
            let ret = match ret {
                Some(r) => c_type(r, out, counter),
                None => "void".into(),
            };
            let params: Vec<String> = params.iter().map(|p| c_type(p, out, counter)).collect();
            let params = if params.is_empty() {
                "void".into()
            } else {
                params.join(", ")
            };
            format!("{ret} (*{{}})({params})")
        }
    };
    *counter += 1;
    let name = format!("rust_t{counter}");
    writeln!(out, "typedef {};", decl.replace("{}", &name)).unwrap();
    name
}

/// The C program that checks the header; it also exits non-zero on a
/// mismatch only visible at run time (strings).
fn generate(source: &AbiSource) -> String {
    let mut c = String::new();
    let mut counter = 0;
    writeln!(
        c,
        "#include \"virt_manager_plugin.h\"\n#include <string.h>\n#include <stdio.h>\n"
    )
    .unwrap();
    writeln!(c, "#define SAME(a, b) __builtin_types_compatible_p(a, b)\n").unwrap();

    for (alias, ty) in &source.aliases {
        let t = c_type(ty, &mut c, &mut counter);
        writeln!(
            c,
            "_Static_assert(SAME(Vmm{alias}, {t}), \"Vmm{alias}: type differs from abi.rs\");"
        )
        .unwrap();
    }
    for layout in layouts() {
        let cs = format!("Vmm{}", layout.name);
        writeln!(c, "\n/* {cs} */").unwrap();
        writeln!(
            c,
            "_Static_assert(sizeof({cs}) == {}, \"sizeof({cs}) differs from abi.rs\");",
            layout.size
        )
        .unwrap();
        writeln!(
            c,
            "_Static_assert(_Alignof({cs}) == {}, \"alignment of {cs} differs\");",
            layout.align
        )
        .unwrap();
        let parsed = &source.structs[layout.name];
        for (field, offset, size) in &layout.fields {
            let ty = &parsed.iter().find(|(f, _)| f == field).unwrap().1;
            let t = c_type(ty, &mut c, &mut counter);
            writeln!(
                c,
                "_Static_assert(offsetof({cs}, {field}) == {offset}, \"offset of {cs}.{field} differs\");\n\
                 _Static_assert(sizeof((({cs} *)0)->{field}) == {size}, \"size of {cs}.{field} differs\");\n\
                 _Static_assert(SAME(__typeof__((({cs} *)0)->{field}), {t}), \"type of {cs}.{field} differs\");"
            )
            .unwrap();
        }
    }
    writeln!(c, "\n/* constants */").unwrap();
    for (name, value) in constants() {
        writeln!(
            c,
            "_Static_assert(VMM_{name} == {value}u, \"VMM_{name} differs from abi.rs\");"
        )
        .unwrap();
    }
    for (name, code) in error_codes() {
        let c_name = screaming(name);
        writeln!(
            c,
            "_Static_assert(VMM_ERROR_{c_name} == {}, \"VMM_ERROR_{c_name} differs\");",
            code as i32
        )
        .unwrap();
    }
    writeln!(c, "_Static_assert(VMM_OK == 0, \"VMM_OK is 0\");").unwrap();
    writeln!(
        c,
        "_Static_assert(SAME(__typeof__(&virt_manager_plugin_v1), VmmEntryFn), \"entry prototype\");"
    )
    .unwrap();
    let entry = std::str::from_utf8(abi::ENTRY_SYMBOL)
        .unwrap()
        .trim_end_matches('\0');
    writeln!(
        c,
        "\nint main(void) {{\n  if (strcmp(VMM_ENTRY_SYMBOL, \"{entry}\") != 0) {{\n    \
         puts(\"VMM_ENTRY_SYMBOL differs from abi.rs\");\n    return 1;\n  }}\n  return 0;\n}}"
    )
    .unwrap();
    // The prototype needs a definition to link.
    writeln!(c, "const VmmPluginDescriptor *virt_manager_plugin_v1(const VmmHostApi *h) {{ (void)h; return 0; }}")
        .unwrap();
    c
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (install build-essential)"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// A directory of the test's own: tests run in parallel and each removes
/// its directory when done.
fn work_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("c-header-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_struct_field_and_constant_of_abi_rs_is_checked() {
    let source = AbiSource::read(&crate_dir().join("src/abi.rs"));
    let checked: BTreeMap<&str, Vec<&str>> = layouts()
        .iter()
        .map(|l| (l.name, l.fields.iter().map(|f| f.0).collect()))
        .collect();
    for (name, fields) in &source.structs {
        let names: Vec<&str> = fields.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            checked.get(name.as_str()),
            Some(&names),
            "abi.rs struct {name} changed: update the header and layouts() in this test"
        );
    }
    assert_eq!(
        checked.len(),
        source.structs.len(),
        "layouts() names a struct abi.rs lacks"
    );
    let consts: Vec<&str> = constants().iter().map(|c| c.0).collect();
    for name in &source.constants {
        assert!(
            consts.contains(&name.as_str()) || name == "ENTRY_SYMBOL",
            "abi.rs constant {name} is new: add VMM_{name} to the header and to constants() here"
        );
    }
    let types_rs = std::fs::read_to_string(crate_dir().join("src/types.rs")).unwrap();
    let variants = rust_source::enum_variants(&types_rs, "ErrorCode");
    let known: Vec<&str> = error_codes().iter().map(|e| e.0).collect();
    assert_eq!(
        variants, known,
        "ErrorCode changed: update the header and error_codes() here"
    );
}

#[test]
fn the_header_matches_the_rust_definitions() {
    let source = AbiSource::read(&crate_dir().join("src/abi.rs"));
    let dir = work_dir("layout");
    let c_file = dir.join("check_header.c");
    std::fs::write(&c_file, generate(&source)).unwrap();
    let exe = dir.join("check_header");
    run(Command::new("cc")
        .args(["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(header().parent().unwrap())
        .arg(&c_file)
        .arg("-o")
        .arg(&exe));
    run(&mut Command::new(&exe));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_header_is_strict_c99_and_cpp() {
    let dir = work_dir("strict");
    let c_file = dir.join("include_only.c");
    std::fs::write(
        &c_file,
        "#include \"virt_manager_plugin.h\"\nint main(void) { return 0; }\n",
    )
    .unwrap();
    let include = header().parent().unwrap().to_path_buf();
    run(Command::new("cc")
        .args([
            "-std=c99",
            "-pedantic-errors",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-fsyntax-only",
            "-I",
        ])
        .arg(&include)
        .arg(&c_file));
    run(Command::new("c++")
        .args([
            "-x",
            "c++",
            "-std=c++11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-fsyntax-only",
            "-I",
        ])
        .arg(&include)
        .arg(&c_file));
    std::fs::remove_dir_all(&dir).ok();
}
