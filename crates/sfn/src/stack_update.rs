//! The template's state machines on a stack update (`wsflow up --watch`):
//! a machine the template gains is created as at start-up, one it loses is
//! deleted as DeleteStateMachine deletes it (executions already running
//! continue to completion on the definition they hold; new ones are refused
//! with `StateMachineDoesNotExist`). A changed definition is
//! [`StepFunctions::update_template_definition`]'s business; a changed type
//! (Standard/Express) replaces the machine, as CloudFormation does.

use std::sync::Arc;

use wsflow_asl::StateMachine;
use wsflow_aws_wire::Account;

use crate::service::{DEFAULT_ROLE, Machine, definition_version};
use crate::{MachineSpec, SfnError, StepFunctions, names};

/// A template machine, its name and definition checked.
pub(crate) fn template_machine(
    spec: MachineSpec,
    account: &Account,
    created_millis: i64,
) -> Result<Machine, SfnError> {
    if names::check_name(&spec.name).is_err() {
        return Err(SfnError::InvalidName(spec.name));
    }
    let parsed =
        StateMachine::parse(&spec.definition).map_err(|source| SfnError::InvalidDefinition {
            machine: spec.name.clone(),
            source,
        })?;
    let role_arn = spec
        .role_arn
        .unwrap_or_else(|| DEFAULT_ROLE.replace("123456789012", &account.account_id));
    Ok(Machine {
        arn: account.state_machine(&spec.name),
        name: spec.name,
        kind: spec.kind,
        version: definition_version(&spec.definition),
        definition: spec.definition,
        parsed,
        role_arn,
        created_millis,
        from_template: true,
    })
}

impl StepFunctions {
    /// Checks a template machine (its name and definition) as
    /// [`StepFunctions::open`] does, registering nothing.
    pub fn validate_machine(spec: &MachineSpec) -> Result<(), SfnError> {
        template_machine(spec.clone(), &Account::default(), 0).map(drop)
    }

    /// Registers a machine the template gained. An existing machine of the
    /// same name is replaced (the template's wins, as at start-up), so a
    /// changed type is a delete and a create under the same ARN.
    pub fn create_template_machine(&self, spec: MachineSpec) -> Result<(), SfnError> {
        let m = template_machine(spec, &self.inner.account, crate::clock::epoch_millis())?;
        crate::lock_write(&self.inner.machines).insert(m.arn.clone(), Arc::new(m));
        Ok(())
    }

    /// Deletes a machine the template lost, as DeleteStateMachine does:
    /// running executions finish on the definition they started with.
    pub fn delete_template_machine(&self, name: &str) -> Result<(), SfnError> {
        let arn = self.inner.account.state_machine(name);
        let mut machines = crate::lock_write(&self.inner.machines);
        match machines.get(&arn) {
            Some(m) if m.from_template => {
                machines.remove(&arn);
                Ok(())
            }
            _ => Err(SfnError::UnknownMachine(name.to_owned())),
        }
    }
}
