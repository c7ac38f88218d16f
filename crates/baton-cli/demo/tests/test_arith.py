import unittest

from calc.arith import add, div, mul, sub


class ArithTest(unittest.TestCase):
    def test_the_four_operations(self):
        self.assertEqual(add(2, 3), 5)
        self.assertEqual(sub(2, 3), -1)
        self.assertEqual(mul(2, 3), 6)
        self.assertEqual(div(3, 2), 1.5)

    def test_dividing_by_zero_is_an_error(self):
        with self.assertRaises(ZeroDivisionError):
            div(1, 0)


if __name__ == "__main__":
    unittest.main()
