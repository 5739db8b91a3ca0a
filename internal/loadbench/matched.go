package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// screen is one screening request the benchmark drives.
type screen struct {
	name string
	body string
}

// screens returns the screening targets: a labelled address, an unlabelled
// one with indirect exposure and a deposit outpoint.
func screens(labelled, exposed string, deposit outpoint) []screen {
	return []screen{
		{"POST /v1/screen (labelled exchange address)", `{"chain":"btc-regtest","address":"` + labelled + `"}`},
		{"POST /v1/screen (unlabelled address, indirect exposure)", `{"chain":"btc-regtest","address":"` + exposed + `"}`},
		{"POST /v1/screen (deposit outpoint)", `{"chain":"btc-regtest","txid":"` + deposit.txid + `","vout":` + strconv.Itoa(int(deposit.vout)) + `}`},
	}
}

// captureAnswers asks serve each screen once and writes its answer's bytes
// to a file in dir, one per screen, in order: what the matched ceilings
// answer.
func captureAnswers(dir, url, key string, scs []screen) ([]string, error) {
	var files []string
	for i, sc := range scs {
		req, err := http.NewRequest("POST", url+"/v1/screen", strings.NewReader(sc.body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("capturing %s: %d %s", sc.name, resp.StatusCode, b)
		}
		f := filepath.Join(dir, fmt.Sprintf("answer%d.json", i))
		if err := os.WriteFile(f, b, 0o600); err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// pinned returns the command name args, on CPU 0 (through taskset, so that
// every thread the process starts inherits it) when pin is set.
func pinned(pin bool, name string, args ...string) *exec.Cmd {
	if !pin {
		return exec.Command(name, args...)
	}
	return exec.Command("taskset", append([]string{"-c", "0", name}, args...)...)
}

// pinSelf moves every thread of this process to cpu; threads started later
// inherit the mask of the thread that starts them.
func pinSelf(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil {
			return fmt.Errorf("thread %d to CPU %d: %w", tid, cpu, err)
		}
	}
	return nil
}
