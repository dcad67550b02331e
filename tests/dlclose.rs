//! The library unloads: after `ngc_cell_free`, `dlclose` really unmaps it, even
//! though this thread ran `advance` with worker threads. A thread-local
//! destructor registered by the library in the calling thread (as
//! `std::thread::spawn` would) makes glibc keep it loaded, which would break
//! MATLAB's `clear mex` and similar reload-in-process hosts.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

use std::ffi::{c_char, c_void, CString};

type New = unsafe extern "C" fn(
    *const c_char,
    usize,
    usize,
    bool,
    *const usize,
    i32,
    *mut *mut c_void,
) -> i32;
type Threads = unsafe extern "C" fn(*mut c_void, usize) -> i32;
type Advance = unsafe extern "C" fn(*mut c_void, f64, f64) -> i32;
type Free = unsafe extern "C" fn(*mut c_void);

fn cdylib() -> Option<std::path::PathBuf> {
    // target/<profile>/deps/<this test> -> target/<profile>/libngc_cells.so
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.parent()?.join("libngc_cells.so");
    p.exists().then_some(p)
}

#[test]
fn the_library_unloads_after_use_with_threads() {
    let Some(path) = cdylib() else {
        eprintln!("libngc_cells.so not found next to the test binary; skipped");
        return;
    };
    let cpath = CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: dlopen/dlsym/dlclose on our own library, symbols with the
    // signatures declared in include/ngc_cells.h; the handle is used only
    // while the library is loaded.
    unsafe {
        let h = libc::dlopen(cpath.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
        assert!(!h.is_null(), "dlopen failed");
        let sym = |name: &str| {
            let n = CString::new(name).unwrap();
            let s = libc::dlsym(h, n.as_ptr());
            assert!(!s.is_null(), "{name} missing");
            s
        };
        let new: New = std::mem::transmute(sym("ngc_bernoulli_error_cell_new"));
        let threads: Threads = std::mem::transmute(sym("ngc_cell_set_threads"));
        let advance: Advance = std::mem::transmute(sym("ngc_cell_advance"));
        let free: Free = std::mem::transmute(sym("ngc_cell_free"));
        let mut cell: *mut c_void = std::ptr::null_mut();
        let name = CString::new("u").unwrap();
        assert_eq!(
            new(
                name.as_ptr(),
                300_000,
                1,
                true,
                std::ptr::null(),
                1,
                &mut cell
            ),
            0
        );
        assert_eq!(threads(cell, 2), 0);
        for _ in 0..3 {
            assert_eq!(advance(cell, 0.0, 1.0), 0);
        }
        free(cell);
        assert_eq!(libc::dlclose(h), 0);
        let again = libc::dlopen(cpath.as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD);
        assert!(again.is_null(), "the library is still loaded after dlclose");
    }
}
