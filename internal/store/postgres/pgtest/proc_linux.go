package pgtest

import "syscall"

// sysProcAttr runs the server as cred (nil: this user) and kills it when
// the test binary dies without stopping it.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
