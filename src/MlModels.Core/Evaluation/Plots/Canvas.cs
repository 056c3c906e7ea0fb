namespace MlModels.Core.Evaluation.Plots;

/// <summary>
/// Shapes in chart pixels (doubles; x to the right, y down), painted on an image <see cref="Factor"/> times larger and
/// shrunk by <see cref="Resolve"/>: anti-aliasing by supersampling. A device pixel is painted when its centre is inside
/// the shape and inside the clip rectangle. Nothing here allocates per shape, so a million points cost no garbage.
/// </summary>
internal sealed class Canvas
{
    public const int Factor = 2;

    /// <summary>
    /// Coordinates are clamped to this many device pixels, so that huge or infinite ones stay finite (and their squares
    /// too): a segment to a point a googol of pixels away still clips to the right direction.
    /// </summary>
    private const double Far = 1e150;

    private readonly Raster _image;
    private int _clipX0, _clipY0, _clipX1, _clipY1;

    public Canvas(int width, int height)
    {
        _image = new Raster(width * Factor, height * Factor);
        ResetClip();
    }

    /// <summary>Paints only inside [x0, x1) × [y0, y1), in chart pixels, until the next clip or reset.</summary>
    public void Clip(double x0, double y0, double x1, double y1)
    {
        _clipX0 = Math.Clamp(First(x0), 0, _image.Width);
        _clipX1 = Math.Clamp(First(x1), _clipX0, _image.Width);
        _clipY0 = Math.Clamp(First(y0), 0, _image.Height);
        _clipY1 = Math.Clamp(First(y1), _clipY0, _image.Height);
    }

    public void ResetClip() => (_clipX0, _clipY0, _clipX1, _clipY1) = (0, 0, _image.Width, _image.Height);

    /// <summary>The picture at chart size.</summary>
    public Raster Resolve() => _image.Downsample(Factor);

    public void FillRect(double x0, double y0, double x1, double y1, Rgb c)
    {
        if (double.IsNaN(x0 + y0 + x1 + y1)) return;
        int i0 = Math.Max(First(x0), _clipX0), i1 = Math.Min(First(x1), _clipX1);
        int j0 = Math.Max(First(y0), _clipY0), j1 = Math.Min(First(y1), _clipY1);
        for (int j = j0; j < j1; j++) _image.FillSpan(j, i0, i1, c);
    }

    /// <summary>A rectangle's outline of the given width, inside its bounds.</summary>
    public void StrokeRect(double x0, double y0, double x1, double y1, double width, Rgb c)
    {
        FillRect(x0, y0, x1, y0 + width, c);
        FillRect(x0, y1 - width, x1, y1, c);
        FillRect(x0, y0, x0 + width, y1, c);
        FillRect(x1 - width, y0, x1, y1, c);
    }

    public void Disk(double cx, double cy, double radius, Rgb c) =>
        DeviceDisk(Device(cx), Device(cy), radius * Factor, c);

    /// <summary>
    /// A segment of the given width with round ends; <paramref name="startCap"/> false leaves out the start's round end,
    /// for a polyline whose previous segment drew it.
    /// </summary>
    public void Line(double x0, double y0, double x1, double y1, double width, Rgb c, bool startCap = true)
    {
        double ax = Device(x0), ay = Device(y0), bx = Device(x1), by = Device(y1);
        double hw = width * Factor / 2;
        if (double.IsNaN(ax + ay + bx + by)) return;
        if (!ClipSegment(ref ax, ref ay, ref bx, ref by, hw + 1)) return;
        double dx = bx - ax, dy = by - ay, length = Math.Sqrt((dx * dx) + (dy * dy));
        if (length > 1e-9)
        {
            double nx = -dy / length * hw, ny = dx / length * hw;
            FillQuad(ax + nx, ay + ny, bx + nx, by + ny, bx - nx, by - ny, ax - nx, ay - ny, c);
        }
        if (startCap) DeviceDisk(ax, ay, hw, c);
        DeviceDisk(bx, by, hw, c);
    }

    /// <summary>
    /// A dashed segment: dashes and gaps of the given lengths in chart pixels, starting with a dash at (x0, y0); only the
    /// dashes that reach the clip rectangle are drawn.
    /// </summary>
    public void DashedLine(double x0, double y0, double x1, double y1, double width, double dash, double gap, Rgb c)
    {
        double ax = Device(x0), ay = Device(y0), bx = Device(x1), by = Device(y1);
        if (double.IsNaN(ax + ay + bx + by)) return;
        double dx = bx - ax, dy = by - ay, length = Math.Sqrt((dx * dx) + (dy * dy));
        if (length < 1e-9) return;
        double margin = (width * Factor) + 1, cx = ax, cy = ay, ex = bx, ey = by;
        if (!ClipSegment(ref cx, ref cy, ref ex, ref ey, margin)) return;
        double enter = Math.Sqrt(((cx - ax) * (cx - ax)) + ((cy - ay) * (cy - ay)));
        double leave = Math.Sqrt(((ex - ax) * (ex - ax)) + ((ey - ay) * (ey - ay)));
        double on = dash * Factor, period = (dash + gap) * Factor;
        for (double t = Math.Floor(enter / period) * period; t < leave; t += period)
        {
            double e = Math.Min(t + on, length);
            Line((ax + (dx * t / length)) / Factor, (ay + (dy * t / length)) / Factor,
                (ax + (dx * e / length)) / Factor, (ay + (dy * e / length)) / Factor, width, c);
        }
    }

    /// <summary>How many device pixels in the rectangle (chart pixels) are not white: how much a box there would hide.</summary>
    public long Ink(double x0, double y0, double x1, double y1)
    {
        int i0 = Math.Max(First(x0), 0), i1 = Math.Min(First(x1), _image.Width);
        int j0 = Math.Max(First(y0), 0), j1 = Math.Min(First(y1), _image.Height);
        long count = 0;
        for (int j = j0; j < j1; j++)
        {
            var row = _image.Pixels.AsSpan(((j * _image.Width) + i0) * 3, Math.Max(0, i1 - i0) * 3);
            for (int i = 0; i < row.Length; i += 3)
                if ((row[i] & row[i + 1] & row[i + 2]) != 255) count++;
        }
        return count;
    }

    /// <summary>
    /// Filled circles of one radius centred on chart pixels' centres, each painted once per position: a scatter of a
    /// million points costs at most one stamp per chart pixel of the clip rectangle (a centre moves by half a pixel at
    /// most). <see cref="NextSeries"/> forgets the positions, so that a later series is drawn over an earlier one.
    /// </summary>
    public sealed class Markers
    {
        private readonly Canvas _canvas;
        private readonly (int Row, int Start, int End)[] _spans;
        private readonly int _x0, _y0, _width, _height;
        private readonly ulong[] _seen;

        public Markers(Canvas canvas, double radius)
        {
            _canvas = canvas;
            // Device pixel (2k + i, 2l + j) of the stamp for chart pixel (k, l): centre at device point (2k + 1, 2l + 1).
            double r = radius * Factor;
            int reach = (int)Math.Ceiling(r) + 1;
            var spans = new List<(int, int, int)>();
            for (int j = -reach; j <= reach; j++)
            {
                double d = j + 0.5 - 1, h2 = (r * r) - (d * d);
                if (h2 < 0) continue;
                double h = Math.Sqrt(h2);
                int start = (int)Math.Ceiling(0.5 - h), end = (int)Math.Floor(0.5 + h) + 1;
                if (start < end) spans.Add((j, start, end));
            }
            _spans = [.. spans];
            int margin = (reach / Factor) + 1;
            _x0 = (canvas._clipX0 / Factor) - margin;
            _y0 = (canvas._clipY0 / Factor) - margin;
            _width = ((canvas._clipX1 + Factor - 1) / Factor) + margin - _x0;
            _height = ((canvas._clipY1 + Factor - 1) / Factor) + margin - _y0;
            _seen = new ulong[(((long)_width * _height) + 63) / 64];
        }

        public void NextSeries() => Array.Clear(_seen);

        public void Draw(double x, double y, Rgb c)
        {
            double dx = Math.Floor(x) - _x0, dy = Math.Floor(y) - _y0;
            if (!(dx >= 0 && dx < _width && dy >= 0 && dy < _height)) return; // NaN and infinities fail too
            int k = (int)dx, l = (int)dy;
            long bit = ((long)l * _width) + k;
            ulong mask = 1UL << (int)(bit & 63);
            if ((_seen[bit >> 6] & mask) != 0) return;
            _seen[bit >> 6] |= mask;
            int left = (k + _x0) * Factor, top = (l + _y0) * Factor;
            var canvas = _canvas;
            foreach (var (row, start, end) in _spans)
            {
                int j = top + row;
                if (j < canvas._clipY0 || j >= canvas._clipY1) continue;
                canvas._image.FillSpan(j, Math.Max(left + start, canvas._clipX0), Math.Min(left + end, canvas._clipX1), c);
            }
        }
    }

    /// <summary>Chart pixels to device pixels, clamped far outside the image so that every later sum stays finite.</summary>
    private static double Device(double v) => double.IsNaN(v) ? v : Math.Clamp(v * Factor, -Far, Far);

    /// <summary>The first device pixel whose centre is at or after the chart coordinate (clamped to ±1e9).</summary>
    private static int First(double v) => (int)Math.Ceiling(Math.Clamp(Device(v), -1e9, 1e9) - 0.5);

    private void DeviceDisk(double cx, double cy, double r, Rgb c)
    {
        if (!(cy + r >= _clipY0 && cy - r <= _clipY1 && cx + r >= _clipX0 && cx - r <= _clipX1)) return;
        int j0 = Math.Max((int)Math.Ceiling(cy - r - 0.5), _clipY0), j1 = Math.Min((int)Math.Floor(cy + r - 0.5), _clipY1 - 1);
        for (int j = j0; j <= j1; j++)
        {
            double d = j + 0.5 - cy, h2 = (r * r) - (d * d);
            if (h2 < 0) continue;
            double h = Math.Sqrt(h2);
            Span(j, cx - h, cx + h, c);
        }
    }

    /// <summary>A convex quadrilateral, its corners in order.</summary>
    private void FillQuad(double x0, double y0, double x1, double y1, double x2, double y2, double x3, double y3, Rgb c)
    {
        double top = Math.Min(Math.Min(y0, y1), Math.Min(y2, y3)), bottom = Math.Max(Math.Max(y0, y1), Math.Max(y2, y3));
        int j0 = Math.Max((int)Math.Ceiling(top - 0.5), _clipY0), j1 = Math.Min((int)Math.Floor(bottom - 0.5), _clipY1 - 1);
        for (int j = j0; j <= j1; j++)
        {
            double yc = j + 0.5, left = double.PositiveInfinity, right = double.NegativeInfinity;
            Cross(x0, y0, x1, y1, yc, ref left, ref right);
            Cross(x1, y1, x2, y2, yc, ref left, ref right);
            Cross(x2, y2, x3, y3, yc, ref left, ref right);
            Cross(x3, y3, x0, y0, yc, ref left, ref right);
            if (left <= right) Span(j, left, right, c);
        }
    }

    private static void Cross(double xa, double ya, double xb, double yb, double yc, ref double left, ref double right)
    {
        if ((ya <= yc) == (yb <= yc)) return;
        double x = xa + ((yc - ya) * (xb - xa) / (yb - ya));
        left = Math.Min(left, x);
        right = Math.Max(right, x);
    }

    /// <summary>The device pixels of row j whose centres lie in [left, right].</summary>
    private void Span(int j, double left, double right, Rgb c)
    {
        int i0 = (int)Math.Max(Math.Ceiling(left - 0.5), _clipX0);
        int i1 = (int)Math.Min(Math.Floor(right - 0.5) + 1, _clipX1);
        if (i0 < i1) _image.FillSpan(j, i0, i1, c);
    }

    /// <summary>Liang–Barsky: the part of the segment within the clip rectangle grown by a margin; false when none is.</summary>
    private bool ClipSegment(ref double ax, ref double ay, ref double bx, ref double by, double margin)
    {
        double dx = bx - ax, dy = by - ay, t0 = 0, t1 = 1;
        if (!Edge(-dx, ax - (_clipX0 - margin), ref t0, ref t1)
            || !Edge(dx, _clipX1 + margin - ax, ref t0, ref t1)
            || !Edge(-dy, ay - (_clipY0 - margin), ref t0, ref t1)
            || !Edge(dy, _clipY1 + margin - ay, ref t0, ref t1))
        {
            return false;
        }
        (ax, ay, bx, by) = (ax + (t0 * dx), ay + (t0 * dy), ax + (t1 * dx), ay + (t1 * dy));
        return true;
    }

    private static bool Edge(double p, double q, ref double t0, ref double t1)
    {
        if (p == 0) return q >= 0;
        double r = q / p;
        if (p < 0)
        {
            if (r > t1) return false;
            if (r > t0) t0 = r;
        }
        else
        {
            if (r < t0) return false;
            if (r < t1) t1 = r;
        }
        return true;
    }
}
