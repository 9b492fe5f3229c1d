package connector

import (
	"errors"
	"fmt"
	"time"
)

// State is the device state of the queue connector (spec B2), as Tango
// names it.
type State int

// The device states.
const (
	Init    State = iota // initialising
	Standby              // not configured
	Off                  // configured, not streaming
	Open                 // starting: opening stream connections
	On                   // streaming
	Close                // stopping: draining and closing stream connections
	Fault                // an error; needs a Reset (or, when configured from the database, a good configuration)
)

var stateNames = [...]string{"INIT", "STANDBY", "OFF", "OPEN", "ON", "CLOSE", "FAULT"}

// States lists every state in order.
func States() []State { return []State{Init, Standby, Off, Open, On, Close, Fault} }

// String returns the Tango name ("ON", "FAULT", …).
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// The device's commands, by their Tango names.
const (
	CmdConfigure      = "Configure"
	CmdStart          = "Start"
	CmdStop           = "Stop"
	CmdStandby        = "Standby"
	CmdReset          = "Reset"
	CmdAbort          = "Abort"
	CmdIsMonitoringDB = "IsMonitoringDB"
)

// Commands lists every command.
func Commands() []string {
	return []string{CmdConfigure, CmdStart, CmdStop, CmdStandby, CmdReset, CmdAbort, CmdIsMonitoringDB}
}

// allowed is the state machine: the states in which each command may run.
// The transitions (reconstructed, spec B2):
//
//	STANDBY/OFF --Configure--> OFF (STANDBY for an empty configuration, FAULT for a bad one)
//	OFF --Start--> OPEN --(started)--> ON        (FAULT if a start fails)
//	ON --Stop--> CLOSE --(drained, stopped)--> OFF (FAULT if the drain fails)
//	OFF --Standby--> STANDBY                      (configuration dropped)
//	OPEN/ON/CLOSE --Abort--> OFF                  (in-flight values are lost)
//	FAULT --Reset--> STANDBY                      (then the database configuration, if watched, is applied again)
//	ON --(an exchange fails)--> FAULT
//
// IsMonitoringDB is allowed in every state. INIT allows nothing else: it
// only lasts while the device is being built.
var allowed = map[string][]State{
	CmdConfigure:      {Standby, Off},
	CmdStart:          {Off},
	CmdStop:           {On},
	CmdStandby:        {Off},
	CmdReset:          {Fault},
	CmdAbort:          {Open, On, Close},
	CmdIsMonitoringDB: States(),
}

// Allowed reports whether command may run in state s (for the whole
// device, or for one group: a group's state is one of OFF, OPEN, ON, CLOSE
// and FAULT). An unknown command is never allowed.
func Allowed(s State, command string) bool {
	for _, a := range allowed[command] {
		if a == s {
			return true
		}
	}
	return false
}

// ErrNotAllowed is matched (errors.Is) by a *NotAllowedError.
var ErrNotAllowed = errors.New("command not allowed")

// ErrUnknownCommand: Command was given a name that is not a command.
var ErrUnknownCommand = errors.New("unknown command")

// ErrUnknownGroup: a command named a group the configuration does not have.
var ErrUnknownGroup = errors.New("unknown group")

// NotAllowedError is Tango's "command not allowed": the command cannot run
// in the current state.
type NotAllowedError struct {
	Command string
	State   State
	Group   string // "" for the whole device
}

func (e *NotAllowedError) Error() string {
	if e.Group != "" {
		return fmt.Sprintf("command %s not allowed when group %s is in %s state", e.Command, e.Group, e.State)
	}
	return fmt.Sprintf("command %s not allowed when the device is in %s state", e.Command, e.State)
}

// Is makes errors.Is(err, ErrNotAllowed) hold.
func (e *NotAllowedError) Is(target error) bool { return target == ErrNotAllowed }

// StateEvent is a change of the device state.
type StateEvent struct {
	State  State
	Status string
	Time   time.Time
	// Dropped counts the events this subscriber missed before this one
	// because it did not keep up (the latest state is never dropped).
	Dropped int
}
