//! Reading the rows of a dataframe's CSV file: columns by name, label cells (single, lists,
//! separated), numeric targets and weights, with errors that name the line.

use std::path::Path;

use super::DataFrameSpec;
use crate::iterators::ClassMode;
use crate::{Error, Result};

/// The column positions a spec reads.
struct Columns {
    x: usize,
    mask: Option<usize>,
    y: Vec<usize>,
    weight: Option<usize>,
}

impl DataFrameSpec {
    /// Every row of the CSV file, parsed for the class mode.
    pub(super) fn read_rows(&self) -> Result<Vec<Row>> {
        let csv = &self.csv;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_path(csv)
            .map_err(|e| csv_error(csv, e))?;
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| csv_error(csv, e))?
            .iter()
            .map(str::to_owned)
            .collect();
        let columns = self.columns(&headers)?;
        let mut rows = Vec::new();
        for rec in reader.records() {
            let rec = rec.map_err(|e| csv_error(csv, e))?;
            rows.push(self.row(&rec, &columns)?);
        }
        Ok(rows)
    }

    /// The positions of the columns the mode reads.
    fn columns(&self, headers: &[String]) -> Result<Columns> {
        let column = |param: &'static str, name: &str| -> Result<usize> {
            headers.iter().position(|h| h == name).ok_or_else(|| {
                Error::invalid(
                    param,
                    format!("{name:?}"),
                    format!("a column of {}: {headers:?}", self.csv.display()),
                )
            })
        };
        let x = column("x_col", &self.x_col)?;
        let mask = (self.mask_col.as_deref())
            .map(|c| column("mask_col", c))
            .transpose()?;
        let y = match self.class_mode {
            ClassMode::Input | ClassMode::None => Vec::new(),
            _ => self
                .y_cols
                .iter()
                .map(|c| column("y_col", c))
                .collect::<Result<_>>()?,
        };
        let weight = self
            .weight_col
            .as_deref()
            .map(|c| column("weight_col", c))
            .transpose()?;
        Ok(Columns { x, mask, y, weight })
    }

    /// One record, parsed.
    fn row(&self, rec: &csv::StringRecord, columns: &Columns) -> Result<Row> {
        let line = rec.position().map_or(0, |p| p.line());
        let cell = |i: usize| rec.get(i).unwrap_or("");
        let mode = self.class_mode;
        let labels = if mode.uses_classes() {
            self.labels(cell(columns.y[0]), line)?
        } else {
            Vec::new()
        };
        let targets = if matches!(mode, ClassMode::Raw | ClassMode::MultiOutput) {
            columns
                .y
                .iter()
                .zip(&self.y_cols)
                .map(|(&i, name)| {
                    number(cell(i)).ok_or_else(|| {
                        self.line_error(
                            line,
                            format!(
                                "y_col={name:?} holds {:?}; class_mode=\"{mode}\" reads numbers",
                                cell(i)
                            ),
                        )
                    })
                })
                .collect::<Result<Vec<f64>>>()?
        } else {
            Vec::new()
        };
        let weight = match (columns.weight, &self.weight_col) {
            (Some(i), Some(name)) => Some(number(cell(i)).ok_or_else(|| {
                Error::invalid(
                    "weight_col",
                    format!("{name:?} holding {:?} at line {line}", cell(i)),
                    "a numeric column",
                )
            })?),
            _ => None,
        };
        Ok(Row {
            filename: cell(columns.x).to_owned(),
            mask: columns.mask.map(|i| cell(i).to_owned()),
            labels,
            targets,
            weight,
        })
    }

    /// The labels of a label cell in a mode with classes.
    fn labels(&self, raw: &str, line: u64) -> Result<Vec<String>> {
        let mode = self.class_mode;
        if raw.trim().is_empty() {
            return Err(self.line_error(
                line,
                format!(
                    "empty label in y_col={:?}; class_mode=\"{mode}\" needs a label in every row",
                    self.y_cols[0]
                ),
            ));
        }
        if mode == ClassMode::Categorical {
            parse_labels(raw, self.separator).map_err(|m| self.line_error(line, m))
        } else if is_list_cell(raw) {
            Err(Error::invalid(
                "y_col",
                format!("{:?} holding {raw:?} at line {line}", self.y_cols[0]),
                format!(
                    "a single string label per row when class_mode=\"{mode}\" (lists need categorical)"
                ),
            ))
        } else {
            Ok(vec![raw.to_owned()])
        }
    }

    fn line_error(&self, line: u64, message: String) -> Error {
        Error::Format {
            path: self.csv.clone(),
            message: format!("line {line}: {message}"),
        }
    }
}

/// One CSV row, parsed.
pub(super) struct Row {
    pub filename: String,
    /// The `mask_col` cell, with `mask_col`.
    pub mask: Option<String>,
    /// The labels of a class mode with classes.
    pub labels: Vec<String>,
    /// The numbers of the `y_col` columns in modes raw and multi_output.
    pub targets: Vec<f64>,
    pub weight: Option<f64>,
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    // csv's message names the record, line and byte, and what was wrong.
    let message = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(path, io),
        _ => Error::Format {
            path: path.to_path_buf(),
            message,
        },
    }
}

/// A number as pandas would read it (surrounding spaces allowed); `None` otherwise.
fn number(cell: &str) -> Option<f64> {
    cell.trim().parse::<f64>().ok()
}

fn is_list_cell(cell: &str) -> bool {
    let t = cell.trim();
    t.starts_with('[') && t.ends_with(']')
}

/// The labels of a categorical cell:
/// * a list written as Python or JSON writes it, `['a', 'b']`, `["a","b"]` or `[a, b]`
///   (items quoted with `'` or `"` may hold commas; `\` escapes the next character);
/// * otherwise, with a separator, `a|b` (spaces around items trimmed);
/// * otherwise the cell is one label, exactly as written.
fn parse_labels(cell: &str, sep: Option<char>) -> std::result::Result<Vec<String>, String> {
    let t = cell.trim();
    if is_list_cell(t) {
        return parse_list(&t[1..t.len() - 1]).map_err(|m| format!("label list {cell:?}: {m}"));
    }
    match sep {
        Some(s) if t.contains(s) => {
            let items: Vec<String> = t.split(s).map(|p| p.trim().to_owned()).collect();
            if items.iter().any(String::is_empty) {
                return Err(format!(
                    "label cell {cell:?} has an empty item between {s:?} separators"
                ));
            }
            Ok(items)
        }
        _ => Ok(vec![cell.to_owned()]),
    }
}

fn parse_list(inner: &str) -> std::result::Result<Vec<String>, String> {
    let mut items = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else {
            break;
        };
        let item = if first == '\'' || first == '"' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    None => return Err(format!("unclosed quote {first}")),
                    Some('\\') => s.extend(chars.next()),
                    Some(c) if c == first => break,
                    Some(c) => s.push(c),
                }
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            s
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                s.push(c);
                chars.next();
            }
            let s = s.trim().to_owned();
            if s.is_empty() {
                return Err("an empty item".into());
            }
            s
        };
        items.push(item);
        match chars.next() {
            None => break,
            Some(',') => {}
            Some(c) => return Err(format!("expected ',' after an item, found {c:?}")),
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_and_json_lists_and_separators_parse_to_labels() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_labels("['a', 'b']", None).unwrap(), v(&["a", "b"]));
        assert_eq!(
            parse_labels(r#"["x,y","z"]"#, None).unwrap(),
            v(&["x,y", "z"])
        );
        assert_eq!(parse_labels("[a, b ,]", None).unwrap(), v(&["a", "b"]));
        assert_eq!(parse_labels("[]", None).unwrap(), Vec::<String>::new());
        assert_eq!(parse_labels("a | b", Some('|')).unwrap(), v(&["a", "b"]));
        assert_eq!(parse_labels("a|b", None).unwrap(), v(&["a|b"]));
        assert_eq!(parse_labels(" cat", Some('|')).unwrap(), v(&[" cat"]));
        assert!(parse_labels("['a', 'b]", None).is_err());
        assert!(parse_labels("[a,,b]", None).is_err());
        assert!(parse_labels("a||b", Some('|')).is_err());
    }
}
