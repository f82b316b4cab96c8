package org.bnb4j.quant;

/** Thrown when an input block holds +-Inf, which has no block-wise 8-bit representation. */
public class NonFiniteInputException extends IllegalArgumentException {
    private final long block;

    /**
     * @param block     the first block holding +-Inf
     * @param blocksize the blocksize of the call
     * @param length    the input's element count (the last block may be shorter than blocksize)
     */
    public NonFiniteInputException(long block, int blocksize, long length) {
        super("input contains +-Inf in block " + block + " (elements " + block * (long) blocksize + ".."
                + (Math.min((block + 1) * (long) blocksize, length) - 1) + "): block-wise quantization needs finite values "
                + "(NaN is accepted and maps to code 0; clip or replace Inf first)");
        this.block = block;
    }

    private NonFiniteInputException(String message, long block) {
        super(message);
        this.block = block;
    }

    /**
     * A DOUBLE input value that is finite but beyond the float range the kernels compute in: as a
     * float it is +-Inf, so its block has no 8-bit representation either.
     */
    public static NonFiniteInputException floatOverflow(long block, long element, double value) {
        return new NonFiniteInputException("input element " + element + " (block " + block + ") is " + value
                + ", finite but beyond the float range (+-" + Float.MAX_VALUE + ") block-wise quantization computes in: "
                + "scale or clip the input first", block);
    }

    /** The same rejection with what it did to the caller's arrays added to the message. */
    public NonFiniteInputException(NonFiniteInputException e, String consequence) {
        super(e.getMessage() + "; " + consequence, e);
        this.block = e.block;
    }

    /** Index of the first block that held an infinite value. */
    public long block() {
        return block;
    }
}
