package main

import "syscall"

// procAttr has Linux end a server when the soak ends, even by SIGKILL.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} }
