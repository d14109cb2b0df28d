//! The core writes SQLite's numbered parameters (`?1`, `?2`; one may repeat, and a bare
//! `?` takes the next number). Drivers that bind only in order (`?` in JavaScript
//! bindings' positional mode) or number differently (`$1` in PostgreSQL) get the text
//! rewritten once per statement, with the order to bind the values in.

/// The statement with every parameter as a bare `?`, and for each of those, in order,
/// the index (from 0) of the value it takes.
pub fn positional(sql: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(sql.len());
    let mut order = Vec::new();
    each_parameter(sql, &mut out, |number, out| {
        out.push('?');
        order.push(number - 1);
    });
    (out, order)
}

/// For a driver that binds SQLite's numbered parameters itself from an array: the index
/// of each value to bind, in order (every number up to the highest the text uses).
pub fn numbered(sql: &str) -> Vec<usize> {
    let mut highest = 0;
    each_parameter(sql, &mut String::new(), |number, _| highest = highest.max(number));
    (0..highest).collect()
}

/// The statement with `?N` written as `$N` (PostgreSQL), which may repeat as SQLite's do.
pub(crate) fn dollar(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    each_parameter(sql, &mut out, |number, out| {
        out.push('$');
        out.push_str(&number.to_string());
    });
    out
}

/// Copies `sql` into `out`, handing each parameter's number (from 1) to `write` in its
/// place. Quoted text, quoted names and comments are copied as they are.
fn each_parameter(sql: &str, out: &mut String, mut write: impl FnMut(usize, &mut String)) {
    let bytes = sql.as_bytes();
    let mut highest = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let end = match b {
            b'\'' | b'"' | b'`' => closing(bytes, i + 1, b),
            b'[' => closing(bytes, i + 1, b']'),
            b'-' if bytes.get(i + 1) == Some(&b'-') => bytes[i..].iter().position(|&c| c == b'\n').map_or(bytes.len(), |p| i + p + 1),
            b'/' if bytes.get(i + 1) == Some(&b'*') => sql[i + 2..].find("*/").map_or(bytes.len(), |p| i + 2 + p + 2),
            b'?' => {
                let digits = bytes[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
                let number = if digits == 0 { highest + 1 } else { sql[i + 1..i + 1 + digits].parse().unwrap_or(usize::MAX) };
                highest = highest.max(number);
                write(number, out);
                i += 1 + digits;
                continue;
            }
            _ => {
                let next = sql[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&sql[i..i + next]);
                i += next;
                continue;
            }
        };
        out.push_str(&sql[i..end]);
        i = end;
    }
}

/// The index just past the quote closing a quoted run that starts at `from` (a doubled
/// quote inside is an escaped one).
fn closing(bytes: &[u8], mut from: usize, quote: u8) -> usize {
    while from < bytes.len() {
        if bytes[from] == quote {
            if bytes.get(from + 1) == Some(&quote) && quote != b']' {
                from += 2;
                continue;
            }
            return from + 1;
        }
        from += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_parameters_become_positional_with_their_order() {
        let (sql, order) = positional("SELECT ?2, ?1 WHERE a = ?2 AND b = ? AND c = '?3' -- ?9\n AND \"?\" = ?1");
        assert_eq!(sql, "SELECT ?, ? WHERE a = ? AND b = ? AND c = '?3' -- ?9\n AND \"?\" = ?");
        assert_eq!(order, vec![1, 0, 1, 2, 0]);
        let (sql, order) = positional("INSERT INTO t VALUES (?, ?, 'it''s ?', ?)");
        assert_eq!(sql, "INSERT INTO t VALUES (?, ?, 'it''s ?', ?)");
        assert_eq!(order, vec![0, 1, 2]);
        assert_eq!(positional("/* ? */ SELECT ?10").1, vec![9]);
    }

    #[test]
    fn a_driver_binding_numbers_gets_each_value_once_up_to_the_highest() {
        assert_eq!(numbered("SELECT ?2, ?1 WHERE a = ?2 AND b = ? AND c = '?9' -- ?9"), vec![0, 1, 2]);
        assert_eq!(numbered("SELECT ?3"), vec![0, 1, 2]);
        assert_eq!(numbered("SELECT 1"), Vec::<usize>::new());
    }

    #[test]
    fn numbered_parameters_become_dollar_numbers() {
        assert_eq!(dollar("SELECT ?1, ?2 WHERE x = ?1 AND y = ? AND s = '?'"), "SELECT $1, $2 WHERE x = $1 AND y = $3 AND s = '?'");
    }
}
