// The @nestjs/swagger CLI plugin as a ts-jest AST transformer, with the options of nest-cli.json.
const transformer = require('@nestjs/swagger/plugin');
const nestCli = require('../nest-cli.json');

const options = nestCli.compilerOptions.plugins.find((plugin) => plugin.name === '@nestjs/swagger').options;

module.exports.name = 'nestjs-swagger-transformer';
module.exports.version = 1;
module.exports.factory = (compiler) => transformer.before(options, compiler.program);
