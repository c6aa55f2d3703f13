"""What the terminal has been handed (xstui.terminal.driver): the driver
counts what Textual's writer thread passed on to the tty, so that Status's
health probes send their calls only once the first frame is on the screen."""

from __future__ import annotations

import io
import threading

from xstui.terminal.driver import WrittenCount, minimal_output_driver


class Writer:
    """Stands for Textual's Linux driver: its tty's file, and writes queued
    for its writer thread (``hand_over`` is that thread's turn)."""

    def __init__(self, file) -> None:
        self._file = file
        self.given: list[str] = []

    def write(self, data: str) -> None:
        self.given.append(data)

    def flush(self) -> None:
        pass

    def hand_over(self) -> None:
        for text in self.given:
            self._file.write(text)
        self.given.clear()
        self._file.flush()


class Headless:
    def write(self, data: str) -> None:
        pass

    def flush(self) -> None:
        pass


def test_what_is_written_counts_at_the_flush_and_the_rest_is_the_files():
    tty = io.StringIO()
    count = WrittenCount(tty)
    count.write("frame one")
    assert count.written == 0  # written, not yet handed to the tty
    count.flush()
    assert count.written == len("frame one")
    assert count.getvalue() == "frame one"  # anything else is the file's own


def test_the_wait_ends_once_the_writer_has_handed_over_the_frame():
    driver = minimal_output_driver(Writer)(io.StringIO())
    driver.write("the first Status frame")
    driver.flush()
    assert driver.queued == len("the first Status frame")
    assert driver.wait_written(0.01) is False  # still with the writer thread
    waited: list[bool] = []
    waiter = threading.Thread(target=lambda: waited.append(driver.wait_written(10)))
    waiter.start()
    driver.hand_over()
    waiter.join(10)
    assert waited == [True]
    assert driver._file.getvalue() == "the first Status frame"


def test_only_what_was_drawn_before_the_wait_is_waited_for():
    driver = minimal_output_driver(Writer)(io.StringIO())
    driver.write("before")
    driver.hand_over()
    assert driver.wait_written(0.01) is True


def test_a_driver_without_a_tty_has_nothing_to_wait_for():
    driver = minimal_output_driver(Headless)()
    driver.write("drawn")
    assert driver.wait_written(0.01) is True
