import BerthImage
import Testing

@Test func imageModuleLinks() {}
