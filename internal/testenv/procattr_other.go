//go:build !linux

package testenv

import "os/exec"

// dieWithParent does nothing where the kernel cannot tie a child's life to
// its parent's; Stop and the test cleanups still stop the child.
func dieWithParent(*exec.Cmd) {}
