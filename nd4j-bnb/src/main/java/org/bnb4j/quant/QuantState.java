package org.bnb4j.quant;

import org.bnb4j.kernels.HostBuffers;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * The result of block-wise quantization: UINT8 codes (the input's elements in C order), one FLOAT
 * absmax per block, the map and the blocksize, plus the original shape and data type so that
 * {@link Blockwise#dequantize(QuantState)} restores them.
 *
 * <p>Binary form ({@link #write}/{@link #read}): magic "BNB4JQS1", version, header, map, absmax and
 * codes in DataOutputStream's big-endian encoding, then a CRC32 of all of it. Floats are written
 * with {@code floatToRawIntBits}, so every bit comes back (NaN payloads included).
 */
public final class QuantState {
    private static final long MAGIC = 0x424E42344A515331L; // "BNB4JQS1"
    private static final int VERSION = 1;

    private final INDArray codes;
    private final INDArray absmax;
    private final QuantMap map;
    private final int blocksize;
    private final long[] shape;
    private final DataType dataType;

    QuantState(INDArray codes, INDArray absmax, QuantMap map, int blocksize, long[] shape, DataType dataType) {
        this.codes = codes;
        this.absmax = absmax;
        this.map = map;
        this.blocksize = blocksize;
        this.shape = shape.clone();
        this.dataType = dataType;
    }

    /**
     * Wraps existing codes and absmax (e.g. read from elsewhere), validating that they fit together.
     *
     * @throws IllegalArgumentException naming the first inconsistency
     */
    public static QuantState of(INDArray codes, INDArray absmax, QuantMap map, int blocksize, long[] shape, DataType dataType) {
        Blockwise.checkBlocksize(blocksize);
        if (map == null) throw new IllegalArgumentException("quantization map is null");
        Blockwise.checkFloatType(dataType, "original data type");
        long n = 1;
        for (long s : shape) {
            if (s < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n *= s;
        }
        Blockwise.checkCodes(codes, n);
        Blockwise.checkAbsmax(absmax, Blockwise.numBlocks(n, blocksize));
        return new QuantState(codes, absmax, map, blocksize, shape, dataType);
    }

    public INDArray codes() { return codes; }
    public INDArray absmax() { return absmax; }
    public QuantMap map() { return map; }
    public int blocksize() { return blocksize; }
    public long[] shape() { return shape.clone(); }
    public DataType dataType() { return dataType; }
    public long length() { return codes.length(); }
    public long numBlocks() { return absmax.length(); }

    /** Bytes held by codes and absmax (the map is shared). */
    public long sizeInBytes() {
        return length() + 4 * numBlocks();
    }

    public void write(OutputStream out) throws IOException {
        CRC32 crc = new CRC32();
        DataOutputStream d = new DataOutputStream(new CheckedOutputStream(out, crc));
        d.writeLong(MAGIC);
        d.writeInt(VERSION);
        d.writeInt(blocksize);
        d.writeUTF(dataType.name());
        d.writeInt(shape.length);
        for (long s : shape) d.writeLong(s);
        d.writeUTF(map.name());
        for (int i = 0; i < QuantMap.SIZE; i++) d.writeInt(Float.floatToRawIntBits(map.get(i)));
        float[] am = absmax.toFloatVector();
        d.writeLong(am.length);
        for (float v : am) d.writeInt(Float.floatToRawIntBits(v));
        byte[] c = new byte[(int) codes.length()];
        if (c.length > 0) HostBuffers.of(codes).get(0, c);
        d.writeLong(c.length);
        d.write(c);
        d.flush();
        new DataOutputStream(out).writeLong(crc.getValue());
        out.flush();
    }

    /**
     * Reads a state written by {@link #write}.
     *
     * @throws IOException if the stream is not a bnb4j state, is of an unknown version, is truncated,
     *                     or fails its checksum
     */
    public static QuantState read(InputStream in) throws IOException {
        CRC32 crc = new CRC32();
        DataInputStream d = new DataInputStream(new CheckedInputStream(in, crc));
        try {
            if (d.readLong() != MAGIC) throw new IOException("not a bnb4j QuantState stream (bad magic)");
            int version = d.readInt();
            if (version != VERSION) throw new IOException("unsupported QuantState version " + version + " (this build reads " + VERSION + ")");
            int blocksize = d.readInt();
            DataType dt;
            try {
                dt = DataType.valueOf(d.readUTF());
            } catch (IllegalArgumentException e) {
                throw new IOException("corrupted QuantState: unknown data type", e);
            }
            int rank = d.readInt();
            if (rank < 0 || rank > 32) throw new IOException("corrupted QuantState: rank " + rank);
            long[] shape = new long[rank];
            for (int i = 0; i < rank; i++) shape[i] = d.readLong();
            d.readUTF(); // map name: informational
            float[] mv = new float[QuantMap.SIZE];
            for (int i = 0; i < QuantMap.SIZE; i++) mv[i] = Float.intBitsToFloat(d.readInt());
            long nb = d.readLong();
            if (nb < 0 || nb > Integer.MAX_VALUE) throw new IOException("corrupted QuantState: " + nb + " blocks");
            float[] am = new float[(int) nb];
            for (int i = 0; i < nb; i++) am[i] = Float.intBitsToFloat(d.readInt());
            long n = d.readLong();
            if (n < 0 || n > Integer.MAX_VALUE - 8) throw new IOException("corrupted QuantState: " + n + " codes");
            byte[] c = new byte[(int) n];
            d.readFully(c);
            long expected = crc.getValue();
            if (new DataInputStream(in).readLong() != expected) throw new IOException("corrupted QuantState: checksum mismatch");
            QuantMap map = QuantMap.of(mv);
            INDArray codes = Nd4j.create(DataType.UBYTE, n);
            if (n > 0) HostBuffers.of(codes).put(0, c);
            INDArray absmax = Nd4j.createFromArray(am);
            try {
                return of(codes, absmax, map, blocksize, shape, dt);
            } catch (IllegalArgumentException e) {
                throw new IOException("corrupted QuantState: " + e.getMessage(), e);
            }
        } catch (EOFException e) {
            throw new IOException("truncated QuantState stream", e);
        }
    }

    @Override
    public String toString() {
        return "QuantState[" + dataType + Arrays.toString(shape) + ", blocksize " + blocksize + ", " + numBlocks()
                + " blocks, " + map + "]";
    }
}
