//! The audit trail in the graph: every control event, and every mode change it causes,
//! appended to the run's hash chain on worker 0.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use bot4_operators::audit::{
    control_payload, mode_change_payload, parameter_change_payload, AuditChain, AuditHead,
};
use bot4_operators::safety_gate::SafetyGate;
use bot4_schemas::{AuditEntry, AuditKind, ControlCommand, ControlEvent, ControlSource, Nanos};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::StreamVec;

use super::keyed::unary_by_epoch;

/// Chain `control` (every event the gates apply, before the broadcast) into audit
/// entries on worker 0, epoch by epoch in `(ts, seq)` order: one entry per event and,
/// after an event that changes the mode, one for the change; a parameter change gets
/// one with its old and new value and when it takes effect (`cooldown` after it was
/// asked for). `values` are the parameters' values at the start. `head` follows the
/// chain, so the run can record it (the summary's `audit`) and a verifier can tell that
/// no entry was cut from the end.
pub fn audit_trail<'s>(
    control: StreamVec<'s, u64, ControlEvent>,
    values: BTreeMap<&'static str, String>,
    cooldown: Nanos,
    head: Rc<RefCell<AuditHead>>,
) -> StreamVec<'s, u64, AuditEntry> {
    let mut chain = AuditChain::new();
    let mut values = values;
    let mut gate = SafetyGate::default();
    unary_by_epoch(
        control,
        Exchange::new(|_: &ControlEvent| 0),
        "AuditTrail",
        move |_epoch, events, entries| {
            events.sort();
            for event in events.iter() {
                entries.push(chain.append(event.ts, AuditKind::Control, control_payload(event)));
                if let (ControlCommand::Set, Some(p)) = (event.command, &event.parameter) {
                    let old = values.get(p.name.as_str()).cloned().unwrap_or_default();
                    entries.push(chain.append(
                        event.ts,
                        AuditKind::ParameterChange,
                        parameter_change_payload(
                            &p.name,
                            &old,
                            &p.value,
                            event.ts,
                            // A capital tier applies at once; a person's change after
                            // the cooldown.
                            if event.source == ControlSource::CapitalTier {
                                event.ts
                            } else {
                                event.ts.saturating_add(cooldown)
                            },
                            event.source,
                        ),
                    ));
                    if let Some(v) = values.get_mut(p.name.as_str()) {
                        v.clone_from(&p.value);
                    }
                }
                let from = gate.mode();
                if gate.on_control(event) {
                    entries.push(chain.append(
                        event.ts,
                        AuditKind::ModeChange,
                        mode_change_payload(from, gate.mode(), event),
                    ));
                }
            }
            *head.borrow_mut() = chain.head();
        },
    )
}
