//! Keyboard and pointer input of the console display, sent to the guest.
//!
//! Keys: with QEMU's Extended Key Event the hardware scancode goes along
//! with the keysym, so the guest's own keymap applies whatever the host's
//! layout; otherwise only keysyms. GDK's hardware keycode is the Linux
//! evdev code plus 8 (X11 and Wayland alike).
//!
//! Pointer: absolute positions in framebuffer pixels at every scale; the
//! wheel as button 4-7 presses; in relative mode (a guest without a
//! tablet) motion deltas, scaled to framebuffer pixels.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use relm4::gtk;
use relm4::gtk::gdk;
use relm4::gtk::prelude::*;

use crate::vnc::VncClient;
use crate::windows::widgets::AnyDisplay as Display;

/// Told when the keyboard grab starts or ends.
pub type GrabCallback = Box<dyn Fn(bool)>;

/// The shared state input handlers need.
#[derive(Default)]
pub struct InputState {
    pub client: RefCell<Option<VncClient>>,
    /// Buttons held, as the RFB mask.
    pub buttons: Cell<u8>,
    pub absolute: Cell<bool>,
    pub last_pos: Cell<Option<(f64, f64)>>,
    /// Keys held (hardware keycodes), released when focus leaves so the
    /// guest never sees a stuck key.
    pub held: RefCell<Vec<(gdk::Key, u32)>>,
    /// Whether the keyboard is grabbed (system shortcuts go to the guest).
    pub grabbed: Cell<bool>,
    /// Keyvals of the release combination, e.g. Control_L + Alt_L.
    pub release_combo: RefCell<Vec<gdk::Key>>,
    pub on_grab_changed: RefCell<Option<GrabCallback>>,
}

impl InputState {
    fn send_key(&self, keyval: gdk::Key, keycode: u32, down: bool) {
        let Some(client) = self.client.borrow().clone() else {
            return;
        };
        let keysym = keyval.into_glib();
        let evdev = keycode.saturating_sub(8);
        match crate::keys::linux_to_qnum(evdev) {
            Some(scan) if client.features().scancodes => client.qemu_key_event(keysym, scan, down),
            _ => client.key_event(keysym, down),
        }
    }

    /// Releases every held key (focus lost, window closed).
    pub fn release_all(&self) {
        let held: Vec<(gdk::Key, u32)> = self.held.borrow_mut().drain(..).collect();
        for (keyval, keycode) in held.into_iter().rev() {
            self.send_key(keyval, keycode, false);
        }
    }

    pub fn set_grab(&self, on: bool) {
        if self.grabbed.replace(on) != on {
            if let Some(f) = self.on_grab_changed.borrow().as_ref() {
                f(on);
            }
        }
    }
}

use relm4::gtk::glib::translate::IntoGlib;

/// Connects keyboard, pointer, wheel and focus handling to `display`.
pub fn attach(display: &Display, state: Rc<InputState>) {
    // Keys.
    let keys = gtk::EventControllerKey::new();
    {
        let st = state.clone();
        keys.connect_key_pressed(move |_, keyval, keycode, _| {
            st.held.borrow_mut().push((keyval, keycode));
            st.send_key(keyval, keycode, true);
            let combo = st.release_combo.borrow();
            let held = st.held.borrow();
            if st.grabbed.get()
                && !combo.is_empty()
                && combo.iter().all(|k| held.iter().any(|(v, _)| v == k))
            {
                drop(held);
                drop(combo);
                st.set_grab(false);
            }
            glib_stop()
        });
    }
    {
        let st = state.clone();
        keys.connect_key_released(move |_, keyval, keycode, _| {
            st.held.borrow_mut().retain(|(_, c)| *c != keycode);
            st.send_key(keyval, keycode, false);
        });
    }
    display.add_controller(keys);

    let focus = gtk::EventControllerFocus::new();
    {
        let st = state.clone();
        focus.connect_leave(move |_| {
            st.release_all();
            st.set_grab(false);
        });
    }
    display.add_controller(focus);

    // Pointer motion.
    let motion = gtk::EventControllerMotion::new();
    {
        let (st, d) = (state.clone(), display.downgrade());
        motion.connect_motion(move |_, x, y| {
            if let Some(d) = d.upgrade() {
                pointer_moved(&d, &st, x, y);
            }
        });
    }
    display.add_controller(motion);

    // Buttons: left, middle, right (RFB mask bits 1, 2, 4).
    let click = gtk::GestureClick::builder().button(0).build();
    {
        let (st, d) = (state.clone(), display.downgrade());
        click.connect_pressed(move |g, _, x, y| {
            let Some(d) = d.upgrade() else { return };
            d.grab_focus();
            st.set_grab(true);
            st.buttons.set(st.buttons.get() | mask(g.current_button()));
            pointer_moved(&d, &st, x, y);
        });
    }
    {
        let (st, d) = (state.clone(), display.downgrade());
        click.connect_released(move |g, _, x, y| {
            let Some(d) = d.upgrade() else { return };
            st.buttons.set(st.buttons.get() & !mask(g.current_button()));
            pointer_moved(&d, &st, x, y);
        });
    }
    display.add_controller(click);

    // Wheel: a press and release of buttons 4-7 per step.
    let scroll = gtk::EventControllerScroll::new(
        gtk::EventControllerScrollFlags::BOTH_AXES | gtk::EventControllerScrollFlags::DISCRETE,
    );
    {
        let (st, d) = (state.clone(), display.downgrade());
        scroll.connect_scroll(move |_, dx, dy| {
            let Some(d) = d.upgrade() else {
                return glib_stop();
            };
            let Some(client) = st.client.borrow().clone() else {
                return glib_stop();
            };
            let (x, y) = st.last_pos.get().unwrap_or((0.0, 0.0));
            let Some((fx, fy)) = d.to_framebuffer(x, y) else {
                return glib_stop();
            };
            let steps = |v: f64, neg: u8, pos: u8| -> (u8, u32) {
                if v < 0.0 {
                    (neg, (-v).round().max(1.0) as u32)
                } else if v > 0.0 {
                    (pos, v.round().max(1.0) as u32)
                } else {
                    (0, 0)
                }
            };
            for (bit, n) in [steps(dy, 8, 16), steps(dx, 32, 64)] {
                for _ in 0..n.min(10) {
                    client.pointer_event(fx, fy, st.buttons.get() | bit);
                    client.pointer_event(fx, fy, st.buttons.get());
                }
            }
            glib_stop()
        });
    }
    display.add_controller(scroll);
}

fn glib_stop() -> relm4::gtk::glib::Propagation {
    relm4::gtk::glib::Propagation::Stop
}

fn mask(button: u32) -> u8 {
    match button {
        1 => 1,
        2 => 2,
        3 => 4,
        _ => 0,
    }
}

fn pointer_moved(display: &Display, st: &InputState, x: f64, y: f64) {
    let Some(client) = st.client.borrow().clone() else {
        return;
    };
    let previous = st.last_pos.replace(Some((x, y)));
    if st.absolute.get() {
        if let Some((fx, fy)) = display.to_framebuffer(x, y) {
            client.pointer_event(fx, fy, st.buttons.get());
        }
    } else if let Some((px, py)) = previous {
        // Relative: deltas in framebuffer pixels; GTK 4 cannot confine or
        // warp the pointer, so the guest's pointer may drift from ours.
        let (_, _, s) = display.transform();
        let dx = ((x - px) / s as f64)
            .round()
            .clamp(i16::MIN as f64, i16::MAX as f64) as i16;
        let dy = ((y - py) / s as f64)
            .round()
            .clamp(i16::MIN as f64, i16::MAX as f64) as i16;
        if dx != 0 || dy != 0 {
            client.relative_pointer_event(dx, dy, st.buttons.get());
        }
    }
}
