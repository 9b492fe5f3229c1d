package testenv

import (
	"fmt"
	"os/exec"
	"time"
)

// stopProcess asks a server to exit (ask), waits up to stopTimeout for done
// to close, and kills it otherwise. A nil cmd or an exited one is fine.
func stopProcess(cmd *exec.Cmd, done <-chan struct{}, name string, ask func()) error {
	return stopProcessWithin(cmd, done, name, ask, stopTimeout)
}

// stopProcessWithin is stopProcess with its own deadline, for servers whose
// clean shutdown takes longer (a Kafka broker's controlled shutdown).
func stopProcessWithin(cmd *exec.Cmd, done <-chan struct{}, name string, ask func(), timeout time.Duration) error {
	if cmd == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	ask()
	select {
	case <-done:
		return nil
	case <-time.After(timeout):
	}
	_ = cmd.Process.Kill()
	<-done
	return fmt.Errorf("testenv: %s did not stop within %v and was killed", name, timeout)
}
