//! Timed control events from a CSV file, for replaying a kill or a pause exactly.

use std::path::Path;

use bot4_operators::parameters::checked;
use bot4_schemas::{ControlCommand, ControlEvent, ControlSource};

use crate::PipelineError;

/// Read control events from a CSV with the header `ts,mode,reason` (`ts` in
/// nanoseconds since the Unix epoch; `mode` one of normal, pause, reduce, emergency,
/// reset, set) and, for `set` rows, the columns `parameter` and `value` (see
/// `bot4_operators::parameters`). Events are returned in time order; equal times keep
/// file order.
pub fn read_control_file(path: &Path) -> Result<Vec<ControlEvent>, PipelineError> {
    let bad = |reason: String| PipelineError::Input {
        path: path.to_owned(),
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| bad(e.to_string()))?;
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let column = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            bad(format!(
                "no `{name}` column; expected the header ts,mode,reason"
            ))
        })
    };
    let (ts_col, mode_col) = (column("ts")?, column("mode")?);
    let reason_col = headers.iter().position(|h| h == "reason");
    let parameter_cols = (
        headers.iter().position(|h| h == "parameter"),
        headers.iter().position(|h| h == "value"),
    );
    let mut events = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(format!("row {}: {e}", row + 1)))?;
        let field = |i: usize| record.get(i).unwrap_or("");
        let ts = field(ts_col).parse::<i64>().map_err(|_| {
            bad(format!(
                "row {}: ts `{}` is not integer nanoseconds",
                row + 1,
                field(ts_col)
            ))
        })?;
        let command = ControlCommand::parse(field(mode_col)).ok_or_else(|| {
            bad(format!(
                "row {}: mode `{}` is not one of normal, pause, reduce, emergency, reset, set",
                row + 1,
                field(mode_col)
            ))
        })?;
        let parameter = match (command, parameter_cols) {
            (ControlCommand::Set, (Some(name), Some(value))) => Some(
                checked(field(name), field(value))
                    .map_err(|e| bad(format!("row {}: {e}", row + 1)))?,
            ),
            (ControlCommand::Set, _) => {
                return Err(bad(format!(
                    "row {}: `set` needs the columns parameter and value",
                    row + 1
                )))
            }
            _ => None,
        };
        events.push(ControlEvent {
            ts,
            seq: row as u64,
            command,
            source: ControlSource::File,
            reason: reason_col.map(field).unwrap_or("").to_owned(),
            parameter,
        });
    }
    events.sort();
    Ok(events)
}
