using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace MailAuth.Server.Tests.Web;

/// <summary>
/// Debian's chromium, headless, through Debian's chromium-driver (test.sh installs both): a fresh
/// profile, a phone's width, the server's self-signed certificate accepted, nothing fetched from the
/// network but the server under test. One per fixture: starting it costs a second or two.
/// </summary>
internal sealed class Chromium : IDisposable
{
    public const int PhoneWidth = 390;
    public const int PhoneHeight = 844;
    public const int DesktopWidth = 800;

    /// <summary>Where <see cref="DocumentationShot"/> writes README's screenshots (docs/screenshots/); unset, it writes nothing.</summary>
    public const string DocumentationDirectoryVariable = "MAILAUTH_SCREENSHOTS_DIR";

    private readonly string _profile = Path.Combine(Path.GetTempPath(), "mailauth-chromium-" + Guid.NewGuid().ToString("N"));
    private readonly string _screenshots;
    private int _shots;

    public Chromium(string screenshotDirectory)
    {
        _screenshots = screenshotDirectory;
        if (Directory.Exists(_screenshots))
        {
            // This run's pages only, numbered in the order they were shown.
            Directory.Delete(_screenshots, recursive: true);
        }
        Directory.CreateDirectory(_screenshots);
        var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium", AcceptInsecureCertificates = true };
        options.AddArguments(
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--ignore-certificate-errors", "--user-data-dir=" + _profile,
            $"--window-size={PhoneWidth},{PhoneHeight}");
        // The driver named outright, so that Selenium Manager never looks for (or downloads) one.
        var service = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        Driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        // The next page's elements are looked for until it has loaded.
        Driver.Manage().Timeouts().ImplicitWait = TimeSpan.FromSeconds(5);
    }

    public ChromeDriver Driver { get; }

    public IWebElement Field(string id) => Driver.FindElement(By.Id(id));

    public void Type(string id, string text)
    {
        var field = Field(id);
        field.Clear();
        field.SendKeys(text);
    }

    public void Submit() => Follow(By.CssSelector("main form button[type=submit]"));

    /// <summary>
    /// Clicks what <paramref name="target"/> finds and waits until the next page replaced this one: a
    /// click returns once navigation starts, so reading at once could still see the old page.
    /// </summary>
    public void Follow(By target)
    {
        var old = Driver.FindElement(By.TagName("html"));
        Driver.FindElement(target).Click();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                _ = old.Enabled;
            }
            catch (StaleElementReferenceException)
            {
                return;
            }
            catch (UnknownErrorException e) when (e.Message.Contains("does not belong to the document", StringComparison.Ordinal))
            {
                // chromium's other word for stale, when asked while the next document replaces this one.
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the page did not change after clicking " + target);
            }
            Thread.Sleep(20);
        }
    }

    public string MainText => Driver.FindElement(By.Id("main")).Text;

    /// <summary>What the field's <c>aria-describedby</c> points at, as a screen reader reads it.</summary>
    public string DescriptionOf(string id) =>
        string.Join(" | ", (Field(id).GetAttribute("aria-describedby") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(described => Driver.FindElement(By.Id(described)).Text));

    /// <summary>Whether the page fits the window's width (no sideways scrolling on a phone).</summary>
    public bool FitsWidth() => Convert.ToInt64(Driver.ExecuteScript("return document.documentElement.scrollWidth;"), System.Globalization.CultureInfo.InvariantCulture)
        <= Convert.ToInt64(Driver.ExecuteScript("return window.innerWidth;"), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Saves the page as a PNG under the test output and attaches it to the running test.</summary>
    public void Screenshot(string name)
    {
        var path = Path.Combine(_screenshots, $"{++_shots:00}-{name}.png");
        Driver.GetScreenshot().SaveAsFile(path);
        TestContext.AddTestAttachment(path, name);
    }

    /// <summary>
    /// With <see cref="DocumentationDirectoryVariable"/> set, saves the whole page at a desktop width
    /// there as NAME.png (and, with <paramref name="phone"/>, at the phone's width as NAME-phone.png):
    /// README's screenshots are regenerated by running the browser tests with it.
    /// </summary>
    public void DocumentationShot(string name, bool phone = false)
    {
        if (Environment.GetEnvironmentVariable(DocumentationDirectoryVariable) is not { Length: > 0 } directory)
        {
            return;
        }
        Directory.CreateDirectory(directory);
        SaveWholePage(Path.Combine(directory, name + ".png"), DesktopWidth);
        if (phone)
        {
            SaveWholePage(Path.Combine(directory, name + "-phone.png"), PhoneWidth);
        }
    }

    /// <summary>
    /// The page at <paramref name="width"/> in a viewport as tall as its content (DevTools' device
    /// metrics: a headless window cannot grow past its screen), then the window's own viewport again.
    /// </summary>
    private void SaveWholePage(string path, int width)
    {
        // The style's main is at least the viewport's height below the header: the page is always a
        // header taller than the viewport, so the scroll bar is hidden rather than chased.
        Driver.ExecuteCdpCommand("Emulation.setScrollbarsHidden", new Dictionary<string, object?> { ["hidden"] = true });
        Emulate(width, 100);
        var height = Convert.ToInt64(Driver.ExecuteScript("return document.documentElement.scrollHeight;"), System.Globalization.CultureInfo.InvariantCulture);
        Emulate(width, height);
        Driver.GetScreenshot().SaveAsFile(path);
        Driver.ExecuteCdpCommand("Emulation.clearDeviceMetricsOverride", []);
        Driver.ExecuteCdpCommand("Emulation.setScrollbarsHidden", new Dictionary<string, object?> { ["hidden"] = false });
    }

    private void Emulate(int width, long height) => Driver.ExecuteCdpCommand("Emulation.setDeviceMetricsOverride", new Dictionary<string, object?>
    {
        ["width"] = width,
        ["height"] = height,
        ["deviceScaleFactor"] = 1,
        ["mobile"] = false,
    });

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // chromium's last writes may still be landing; the temporary directory is cleaned anyway.
        }
    }
}
