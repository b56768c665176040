//! States stored and shown by name (an order's status, a product): the enum, its name and its
//! parse back, from one list, so a context declares its states once and a name cannot be
//! spelt two ways.

/// Declares an enum whose variants each have a fixed name, with `as_str` (the name) and
/// `parse` (the variant of exactly that name, None for any other). The enum derives `Debug`,
/// `Clone`, `Copy`, `PartialEq` and `Eq`; further derives go on top.
///
/// ```
/// mediamesh_mesh::named! {
///     /// Where an order is (in process order).
///     #[derive(PartialOrd, Ord)]
///     pub enum Status {
///         Requested = "REQUESTED",
///         Joined = "JOINED",
///     }
/// }
/// assert_eq!(Status::parse("JOINED"), Some(Status::Joined));
/// assert_eq!(Status::Requested.as_str(), "REQUESTED");
/// assert!(Status::Requested < Status::Joined);
/// assert_eq!(Status::parse("joined"), None);
/// ```
#[macro_export]
macro_rules! named {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}
