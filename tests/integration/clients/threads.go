// SPDX-License-Identifier: MIT
//
// A Go client through the proxy from threads other than the main one: the
// main goroutine is locked to the main thread, so every request's connect(2)
// is made by another thread of the process (the Go runtime's Ms).
//
//	threads URL N
//
// Prints one line per request ("200 BODY") and exits 0 when all got a 200.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

func main() {
	runtime.LockOSThread()
	url := os.Args[1]
	n, _ := strconv.Atoi(os.Args[2])
	client := &http.Client{Transport: &http.Transport{
		Proxy:             http.ProxyFromEnvironment,
		DisableKeepAlives: true, // a connect per request
	}}
	out := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r, err := client.Get(url)
			if err != nil {
				out[i] = "error " + err.Error()
				return
			}
			defer r.Body.Close()
			b, _ := io.ReadAll(r.Body)
			out[i] = strconv.Itoa(r.StatusCode) + " " + strings.TrimSpace(string(b))
		}(i)
	}
	wg.Wait()
	failed := false
	for _, l := range out {
		fmt.Println(l)
		failed = failed || !strings.HasPrefix(l, "200 ")
	}
	if failed {
		os.Exit(1)
	}
}
