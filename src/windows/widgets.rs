//! Widgets shared by several windows: the CPU sparkline of the manager's
//! rows, the performance graphs of the details and host windows, and the
//! console's framebuffer display.

mod display;
mod display_gl;
mod graph;
mod sparkline;

pub use display::{Display, Scaling, TILE};
pub use display_gl::{AnyDisplay, DisplayGl, DisplayKind};
pub use graph::Graph;
pub use sparkline::{Samples, Sparkline};
