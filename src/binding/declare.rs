//! Each operation declared once. A concern's file in `methods/` holds one table,
//! `operations! { ... }`, with a line per operation:
//!
//! ```text
//! /// Its doc comment (the TypeScript declaration's too).
//! setUsageLimit: value Input Required limits::set, [Store Scope Async],
//!     "input: ControlPlaneSetUsageLimitInput & ControlPlaneRequestOrigin" => "ControlPlaneUsageLimit";
//! ```
//!
//! That is: its name (the JS one), how its result goes back (`built` in the caller's realm
//! by a factory, `value` as JSON, `void`, `task` a Promise), how it takes its arguments
//! (`Args`), whether its input may be left out (`Given`), its core function, the faces it
//! is offered on, and its TypeScript arguments and result as the store declares them
//! (`where "<generics>"` after them when it has any). `gathered` is `built` with the input
//! read in JS on the request path (`gathered.rs`, its fields the request's `FIELDS`).
//!
//! From the line come: the `#[napi]` method on `ControlPlaneStore` and on `OrgScope`, the
//! async store's entry (`lookup`), the gathered entry, and the TypeScript declarations
//! (`typescript`, merged into the generated classes by `npm run build`): `OrgScope`'s
//! signature is the store's with `ScopedInput<...>` (its org put in by the handle).

use super::call::Given;

/// Where an operation is offered.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Face {
    /// A method of `ControlPlaneStore`.
    Store,
    /// A method of `forOrg`'s handle, `OrgScope` (and of the async store's `forOrg`).
    Scope,
    /// A method of the async store (`ControlPlaneStore.connect`).
    Async,
}

/// How a method takes its arguments (the async store's `index.js` side shapes them the same).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Args {
    /// `(input)`, the result returned.
    Input,
    /// `(input)`, nothing returned.
    Void,
    /// `()`.
    None,
    /// `(orgId)`; `()` on the scoped handle.
    OrgId,
    /// `(slug)`.
    Slug,
    /// `(events, options?)`.
    Batch,
    /// `(input, options?)`: the options' fields (`call::OPTIONS`) read into the input.
    Options,
}

impl Args {
    /// The name `lib/async.js` knows it by.
    pub fn name(self) -> &'static str {
        match self {
            Args::Input => "input",
            Args::Void => "void",
            Args::None => "none",
            Args::OrgId => "orgId",
            Args::Slug => "slug",
            Args::Batch => "batch",
            Args::Options => "options",
        }
    }
}

/// One line of a table, as data.
#[derive(Debug)]
pub struct Declared {
    pub name: &'static str,
    pub doc: &'static str,
    pub args: Args,
    pub given: Given,
    /// Its result is a Promise (`task`).
    pub promise: bool,
    pub faces: &'static [Face],
    pub ts_generics: &'static str,
    pub ts_args: &'static str,
    pub ts_result: &'static str,
}

impl Declared {
    pub fn on(&self, face: Face) -> bool {
        self.faces.contains(&face)
    }

    /// Its TypeScript signature on `face` (the store's or the scoped handle's).
    fn signature(&self, face: Face) -> String {
        let (generics, args) = match face {
            Face::Scope => scoped(self.args, self.ts_generics, self.ts_args),
            _ => (self.ts_generics.to_string(), self.ts_args.to_string()),
        };
        let result = if self.promise { format!("Promise<{}>", self.ts_result) } else { self.ts_result.to_string() };
        let generics = if generics.is_empty() { generics } else { format!("<{generics}>") };
        format!("{}{generics}({args}): {result}", self.name)
    }
}

/// The scoped handle's generics and arguments from the store's: the input is
/// `ScopedInput<I>` (which has the request origin) and may be left out; `getOrg` takes none.
fn scoped(args: Args, generics: &str, ts_args: &str) -> (String, String) {
    const ORIGIN: &str = " & ControlPlaneRequestOrigin";
    match args {
        Args::OrgId => (generics.to_string(), String::new()),
        Args::Batch => {
            let (events, rest) = ts_args.split_once("[]").expect("a batch's events are an array");
            let ty = events.trim_start_matches("events: ");
            (generics.to_string(), format!("events: ScopedInput<{ty}>[]{rest}"))
        }
        Args::Options => {
            let (input, options) = ts_args.split_once(", ").expect("an input, then the options");
            let (generics, input) = scoped(Args::Input, generics, input);
            (generics, format!("{input}, {options}"))
        }
        _ => {
            let ty = ts_args.split_once(": ").map_or("", |(_, ty)| ty).trim_end_matches(ORIGIN);
            // `<I extends Input>(input: I)`: the bound is scoped, and `{}` when left out.
            match generics.strip_prefix(&format!("{ty} extends ")) {
                Some(bound) => (format!("{ty} extends ScopedInput<{bound}> = {{}}"), format!("input?: {ty}")),
                None => (generics.to_string(), format!("input?: ScopedInput<{ty}>")),
            }
        }
    }
}

/// The declarations of every table's methods on the classes napi-rs declares (which
/// TypeScript merges with these interfaces), for `native.d.ts`.
pub fn typescript(all: &[&Declared]) -> String {
    let mut out = String::from("// Generated, do not edit: each operation's declaration (src/binding/methods/*.rs's tables).\n");
    for (class, face) in [("ControlPlaneStore", Face::Store), ("OrgScope", Face::Scope)] {
        out.push_str(&format!("export interface {class} {{\n"));
        for op in all.iter().filter(|op| op.on(face)) {
            let doc = op.doc.trim_end();
            if !doc.is_empty() {
                out.push_str("  /**\n");
                for line in doc.lines() {
                    out.push_str(&format!("   *{}{}\n", if line.trim().is_empty() { "" } else { " " }, line.trim()));
                }
                out.push_str("   */\n");
            }
            out.push_str(&format!("  {}\n", op.signature(face)));
        }
        out.push_str("}\n");
    }
    out
}

/// A concern's table of operations: see the module's doc.
macro_rules! operations {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident: $kind:ident $args:ident $given:ident $op:path, [$($face:ident)*],
            $ts_args:literal => $ts_result:literal $(where $ts_generics:literal)?;
    )*) => {
        // napi-rs names a method's class by the name its `impl` gives.
        #[allow(unused_imports)]
        use $crate::binding::{scope::OrgScope, store::ControlPlaneStore};

        /// This table's operations, as data.
        pub const DECLARED: &[$crate::binding::declare::Declared] = &[$(
            $crate::binding::declare::Declared {
                name: stringify!($name),
                doc: concat!($($doc, "\n",)* ""),
                args: $crate::binding::declare::operations!(@args $kind $args),
                given: $crate::binding::call::Given::$given,
                promise: $crate::binding::declare::operations!(@promise $kind),
                faces: &[$($crate::binding::declare::Face::$face),*],
                ts_generics: concat!($($ts_generics,)? ""),
                ts_args: $ts_args,
                ts_result: $ts_result,
            },
        )*];

        /// How the async store makes a call's work, for a method of this table it offers.
        pub fn prepare(method: &str) -> Option<$crate::binding::call::Prepare> {
            match method {
                $(stringify!($name) => $crate::binding::declare::operations!(@async [$($face)*] $op),)*
                _ => None,
            }
        }

        /// This table's request-path methods, into the addon's `gathered` table.
        pub fn gathered(env: &napi::Env, exports: &napi::bindgen_prelude::Object, table: &mut napi::bindgen_prelude::Array) -> napi::Result<()> {
            let _ = (&env, &exports, &table);
            $($crate::binding::declare::operations!(@gathered $kind [$($face)*] env, exports, table, $name, $op);)*
            Ok(())
        }

        $(
            $crate::binding::declare::operations!(@faces [$($face)*] $kind $args $given $name [$($doc)*] $op);
        )*
    };

    (@args void $args:ident) => { $crate::binding::declare::Args::Void };
    (@args $kind:ident $args:ident) => { $crate::binding::declare::Args::$args };
    (@promise task) => { true };
    (@promise $kind:ident) => { false };

    (@async [] $op:path) => { None };
    (@async [Async $($rest:ident)*] $op:path) => { Some(|input| $crate::binding::call::job(input, $op)) };
    (@async [$other:ident $($rest:ident)*] $op:path) => { $crate::binding::declare::operations!(@async [$($rest)*] $op) };

    (@gathered gathered [$($face:ident)*] $env:ident, $exports:ident, $table:ident, $name:ident, $op:path) => {
        $($crate::binding::declare::operations!(@gathered_on $face $env, $exports, $table, $name, $op);)*
    };
    (@gathered $kind:ident [$($face:ident)*] $env:ident, $exports:ident, $table:ident, $name:ident, $op:path) => {};
    (@gathered_on Store $env:ident, $exports:ident, $table:ident, $name:ident, $op:path) => {
        $crate::binding::gathered::add::<$crate::binding::store::ControlPlaneStore, _, _>($env, $exports, $table, "ControlPlaneStore", stringify!($name), $op)?;
    };
    (@gathered_on Scope $env:ident, $exports:ident, $table:ident, $name:ident, $op:path) => {
        $crate::binding::gathered::add::<$crate::binding::scope::OrgScope, _, _>($env, $exports, $table, "OrgScope", stringify!($name), $op)?;
    };
    (@gathered_on Async $env:ident, $exports:ident, $table:ident, $name:ident, $op:path) => {};

    (@faces [$($face:ident)*] $kind:ident $args:ident $given:ident $name:ident $docs:tt $op:path) => {
        $($crate::binding::declare::operations!(@face $face $kind $args $given $name $docs $op);)*
    };
    (@face Async $($rest:tt)*) => {};
    (@face Store $($rest:tt)*) => { $crate::binding::declare::operations!(@class ControlPlaneStore, store $($rest)*); };
    (@face Scope $($rest:tt)*) => { $crate::binding::declare::operations!(@class OrgScope, scope $($rest)*); };

    // The method itself; napi-rs reads its signature, so each return type has its arm.
    (@class $class:ident, $on:ident void $args:ident $given:ident $name:ident [$($doc:literal)*] $op:path) => {
        #[napi_derive::napi]
        impl $class {
            $(#[doc = $doc])*
            #[napi(skip_typescript)]
            #[allow(non_snake_case)]
            pub fn $name(&self, env: &napi::Env, input: Option<napi::bindgen_prelude::Unknown>) -> napi::Result<()> {
                $crate::binding::call::void(self, env, input, $op)
            }
        }
    };
    (@class $class:ident, $on:ident task $args:ident $given:ident $name:ident [$($doc:literal)*] $op:path) => {
        #[napi_derive::napi]
        impl $class {
            $(#[doc = $doc])*
            #[napi(skip_typescript)]
            #[allow(non_snake_case)]
            pub fn $name(
                &self,
                env: &napi::Env,
                input: Option<napi::bindgen_prelude::Unknown>,
            ) -> napi::Result<napi::bindgen_prelude::AsyncTask<$crate::binding::async_call::AsyncCall>> {
                $crate::binding::call::task(self, env, input, $op)
            }
        }
    };
    (@class $class:ident, $on:ident $kind:ident $args:ident $given:ident $name:ident [$($doc:literal)*] $op:path) => {
        #[napi_derive::napi]
        impl $class {
            $(#[doc = $doc])*
            #[napi(skip_typescript)]
            #[allow(non_snake_case)]
            pub fn $name<'e>(
                &self,
                env: &'e napi::Env,
                first: Option<napi::bindgen_prelude::Unknown>,
                second: Option<napi::bindgen_prelude::Unknown>,
            ) -> napi::Result<napi::bindgen_prelude::Unknown<'e>> {
                let _ = (&first, &second);
                $crate::binding::declare::operations!(@body $on $kind $args $given self, env, first, second, $op)
            }
        }
    };

    (@body $on:ident value Input $given:ident $self:ident, $env:ident, $first:ident, $second:ident, $op:path) => {
        $crate::binding::call::value($self, $env, $first, $crate::binding::call::Given::$given, $op)
    };
    (@body $on:ident built Input $given:ident $self:ident, $env:ident, $first:ident, $second:ident, $op:path) => {
        $crate::binding::call::built($self, $env, $first, $crate::binding::call::Given::$given, $op)
    };
    (@body $on:ident gathered Input $given:ident $self:ident, $env:ident, $first:ident, $second:ident, $op:path) => {
        $crate::binding::call::built($self, $env, $first, $crate::binding::call::Given::$given, $op)
    };
    (@body $on:ident gathered Options $given:ident $self:ident, $env:ident, $first:ident, $second:ident, $op:path) => {
        $crate::binding::call::with_options($self, $env, $first, $second, $crate::binding::call::Given::$given, $op)
    };
    (@body $on:ident value None $given:ident $self:ident, $env:ident, $first:ident, $second:ident, $op:path) => {
        $crate::binding::call::value($self, $env, None, $crate::binding::call::Given::$given, $op)
    };
    (@body store value OrgId $given:ident $self:ident, $env:ident, $first:ident, $second:ident, $op:path) => {
        $crate::binding::call::run($self, $env, &$crate::binding::call::one_field($env, $first, "orgId")?, $op)
    };
    (@body scope value OrgId $given:ident $self:ident, $env:ident, $first:ident, $second:ident, $op:path) => {
        $crate::binding::call::run($self, $env, &$self.org_input().into(), $op)
    };
    (@body $on:ident value Slug $given:ident $self:ident, $env:ident, $first:ident, $second:ident, $op:path) => {
        $crate::binding::call::run($self, $env, &$crate::binding::call::one_field($env, $first, "slug")?, $op)
    };
    (@body $on:ident built Batch $given:ident $self:ident, $env:ident, $first:ident, $second:ident, $op:path) => {
        $crate::binding::call::batch($self, $env, $first, $second, $op)
    };
}

pub(crate) use operations;
